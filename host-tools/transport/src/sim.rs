//! The in-process channel: an [`oxicard_sim::SimCard`] in this process, with the same ATR
//! `oxicard sim` gives pcscd. APDUs go straight to the runtime, so no GET RESPONSE is needed.

use oxicard_sim::vpcd::ATR;
use oxicard_sim::SimCard;

use crate::{CardChannel, TransportError};

/// A simulated card in this process.
pub struct SimChannel {
    card: SimCard,
}

impl SimChannel {
    /// Wraps a simulated card (load and install CAP files first, or through
    /// [`CardChannel::sim_card`]).
    pub fn new(card: SimCard) -> SimChannel {
        SimChannel { card }
    }

    /// The simulated card.
    pub fn card(&mut self) -> &mut SimCard {
        &mut self.card
    }
}

impl CardChannel for SimChannel {
    fn name(&self) -> &str {
        "in-process simulator"
    }

    fn atr(&self) -> &[u8] {
        &ATR
    }

    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        Ok(self.card.transmit(command)?)
    }

    fn reset(&mut self) -> Result<(), TransportError> {
        Ok(self.card.reset()?)
    }

    fn sim_card(&mut self) -> Option<&mut SimCard> {
        Some(&mut self.card)
    }
}
