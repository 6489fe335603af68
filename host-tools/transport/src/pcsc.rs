//! PC/SC readers through pcsc-lite (the `pcsc` crate): listing readers with whether a card is
//! in them, choosing one by name or index (or the first with a card), connecting with T=0 or
//! T=1, and exchanging complete responses ([`crate::response::transmit_complete`]).

use std::ffi::CString;
use std::time::{Duration, Instant};

use pcsc::{Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};

use crate::response::transmit_complete;
use crate::{CardChannel, TransportError};

/// A reader pcscd knows, and whether a card is in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReaderInfo {
    /// The reader name, as PC/SC programs show it ("Virtual PCD 00 00").
    pub name: String,
    /// Whether a card is present.
    pub card_present: bool,
}

/// Which reader to use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReaderSelector {
    /// The first reader (in pcscd's order) with a card in it.
    FirstWithCard,
    /// The reader at this position in pcscd's list, from 0 (as `opensc-tool -r 0`).
    Index(usize),
    /// The reader with this name; a case-insensitive part of one name also selects it.
    Name(String),
}

impl ReaderSelector {
    /// `--reader NAME|INDEX`: digits select by index, anything else by name; no option (None)
    /// selects the first reader with a card.
    pub fn from_option(option: Option<&str>) -> ReaderSelector {
        match option {
            None => ReaderSelector::FirstWithCard,
            Some(text) => match text.parse::<usize>() {
                Ok(index) => ReaderSelector::Index(index),
                Err(_) => ReaderSelector::Name(text.to_string()),
            },
        }
    }

    /// Picks the reader from `readers`; the error lists the readers there are.
    pub fn choose<'r>(&self, readers: &'r [ReaderInfo]) -> Result<&'r ReaderInfo, TransportError> {
        let chosen = match self {
            ReaderSelector::FirstWithCard => readers.iter().find(|r| r.card_present),
            ReaderSelector::Index(index) => readers.get(*index),
            ReaderSelector::Name(name) => match readers.iter().find(|r| r.name == *name) {
                Some(exact) => Some(exact),
                None => {
                    let wanted = name.to_lowercase();
                    let mut matching = readers
                        .iter()
                        .filter(|r| r.name.to_lowercase().contains(&wanted));
                    match (matching.next(), matching.next()) {
                        (Some(only), None) => Some(only),
                        (Some(_), Some(_)) => {
                            return Err(TransportError::NoReader(format!(
                                "more than one reader matches {name:?}: {}",
                                describe(readers)
                            )))
                        }
                        _ => None,
                    }
                }
            },
        };
        chosen.ok_or_else(|| {
            let wanted = match self {
                ReaderSelector::FirstWithCard => "no reader has a card in it".to_string(),
                ReaderSelector::Index(index) => format!("there is no reader {index}"),
                ReaderSelector::Name(name) => format!("no reader is called {name:?}"),
            };
            TransportError::NoReader(format!("{wanted}; {}", describe(readers)))
        })
    }
}

/// "readers: 0 "A" (card), 1 "B" (empty)" for error messages.
fn describe(readers: &[ReaderInfo]) -> String {
    if readers.is_empty() {
        return "pcscd lists no readers".into();
    }
    let list: Vec<String> = readers
        .iter()
        .enumerate()
        .map(|(index, r)| {
            let state = if r.card_present { "card" } else { "empty" };
            format!("{index} {:?} ({state})", r.name)
        })
        .collect();
    format!("readers: {}", list.join(", "))
}

fn pcsc_error(context: &str) -> impl FnOnce(pcsc::Error) -> TransportError + '_ {
    move |error| TransportError::Pcsc {
        context: context.to_string(),
        error,
    }
}

fn establish() -> Result<Context, TransportError> {
    Context::establish(Scope::User).map_err(pcsc_error(
        "connecting to pcscd (is it running? scripts/pcsc-env.sh start)",
    ))
}

fn readers_of(context: &Context) -> Result<Vec<ReaderInfo>, TransportError> {
    let names = match context.list_readers_owned() {
        Ok(names) => names,
        Err(pcsc::Error::NoReadersAvailable) => return Ok(Vec::new()),
        Err(error) => return Err(pcsc_error("listing readers")(error)),
    };
    let mut states: Vec<ReaderState> = names
        .into_iter()
        .map(|name| ReaderState::new(name, State::UNAWARE))
        .collect();
    match context.get_status_change(Duration::ZERO, &mut states) {
        Ok(()) | Err(pcsc::Error::Timeout) => {}
        Err(error) => return Err(pcsc_error("reading reader states")(error)),
    }
    Ok(states
        .iter()
        .map(|state| ReaderInfo {
            name: state.name().to_string_lossy().into_owned(),
            card_present: state.event_state().contains(State::PRESENT),
        })
        .collect())
}

/// The readers pcscd knows, in its order, with whether a card is in each.
pub fn list_readers() -> Result<Vec<ReaderInfo>, TransportError> {
    readers_of(&establish()?)
}

/// Waits until the reader chosen by `selector` has a card, polling every 50 ms; the error
/// after `timeout` lists the readers.
pub fn wait_for_card(selector: &ReaderSelector, timeout: Duration) -> Result<(), TransportError> {
    let deadline = Instant::now() + timeout;
    loop {
        let last = match list_readers() {
            Ok(readers) => match selector.choose(&readers) {
                Ok(reader) if reader.card_present => return Ok(()),
                Ok(reader) => TransportError::NoReader(format!("no card in {:?}", reader.name)),
                Err(error) => error,
            },
            Err(error) => error,
        };
        if Instant::now() >= deadline {
            return Err(last);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A card in a PC/SC reader.
pub struct PcscChannel {
    card: pcsc::Card,
    reader: String,
    atr: Vec<u8>,
    buffer: Vec<u8>,
}

const PROTOCOLS: Protocols = Protocols::T0.union(Protocols::T1);

impl PcscChannel {
    /// Connects (shared, T=0 or T=1, whichever the card and reader agree on) to the card in
    /// the reader `selector` chooses.
    pub fn connect(selector: &ReaderSelector) -> Result<PcscChannel, TransportError> {
        let context = establish()?;
        let readers = readers_of(&context)?;
        let reader = selector.choose(&readers)?.name.clone();
        let name = CString::new(reader.clone())
            .map_err(|_| TransportError::NoReader(format!("bad reader name {reader:?}")))?;
        let card = context
            .connect(&name, ShareMode::Shared, PROTOCOLS)
            .map_err(|error| TransportError::Pcsc {
                context: format!("connecting to the card in {reader:?}"),
                error,
            })?;
        let mut channel = PcscChannel {
            card,
            reader,
            atr: Vec::new(),
            buffer: vec![0; pcsc::MAX_BUFFER_SIZE_EXTENDED],
        };
        channel.read_atr()?;
        Ok(channel)
    }

    fn read_atr(&mut self) -> Result<(), TransportError> {
        let status = self
            .card
            .status2_owned()
            .map_err(pcsc_error("reading the card status"))?;
        self.atr = status.atr().to_vec();
        Ok(())
    }

    /// The protocol in use: "T=0", "T=1" or "raw".
    pub fn protocol(&self) -> &'static str {
        match self.card.status2_owned().ok().and_then(|s| s.protocol2()) {
            Some(pcsc::Protocol::T0) => "T=0",
            Some(pcsc::Protocol::T1) => "T=1",
            _ => "raw",
        }
    }

    /// One exchange with the reader, as it is (no GET RESPONSE).
    pub fn transmit_raw(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let reader = &self.reader;
        self.card
            .transmit(command, &mut self.buffer)
            .map(<[u8]>::to_vec)
            .map_err(|error| TransportError::Pcsc {
                context: format!("sending a command to {reader:?}"),
                error,
            })
    }
}

impl CardChannel for PcscChannel {
    fn name(&self) -> &str {
        &self.reader
    }

    fn atr(&self) -> &[u8] {
        &self.atr
    }

    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        transmit_complete(command, |c| self.transmit_raw(c))
    }

    fn reset(&mut self) -> Result<(), TransportError> {
        self.card
            .reconnect(ShareMode::Shared, PROTOCOLS, Disposition::ResetCard)
            .map_err(pcsc_error("resetting the card"))?;
        self.read_atr()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn readers() -> Vec<ReaderInfo> {
        [("Virtual PCD 00 00", false), ("Virtual PCD 00 01", true)]
            .iter()
            .map(|(name, card_present)| ReaderInfo {
                name: name.to_string(),
                card_present: *card_present,
            })
            .collect()
    }

    #[test]
    fn readers_are_chosen_by_card_index_or_name() {
        let readers = readers();
        let pick = |option: Option<&str>| {
            ReaderSelector::from_option(option)
                .choose(&readers)
                .map(|r| r.name.clone())
        };
        assert_eq!(pick(None).ok().as_deref(), Some("Virtual PCD 00 01"));
        assert_eq!(pick(Some("0")).ok().as_deref(), Some("Virtual PCD 00 00"));
        assert_eq!(
            pick(Some("Virtual PCD 00 00")).ok().as_deref(),
            Some("Virtual PCD 00 00")
        );
        assert_eq!(
            pick(Some("pcd 00 01")).ok().as_deref(),
            Some("Virtual PCD 00 01")
        );
        let ambiguous = pick(Some("virtual")).unwrap_err().to_string();
        assert!(ambiguous.contains("more than one"), "{ambiguous}");
        let missing = pick(Some("2")).unwrap_err().to_string();
        assert!(missing.contains("no reader 2"), "{missing}");
        assert!(
            missing.contains("1 \"Virtual PCD 00 01\" (card)"),
            "{missing}"
        );
        let empty = ReaderSelector::FirstWithCard
            .choose(&[])
            .unwrap_err()
            .to_string();
        assert!(empty.contains("no readers"), "{empty}");
    }
}
