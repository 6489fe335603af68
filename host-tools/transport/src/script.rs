//! Scripts on any channel: [`oxicard_sim::runner::ScriptCard`] for every [`CardChannel`], so
//! that `oxicard run` and `oxicard shell` replay the same scripts on every card. `load` and
//! `install` lines need the in-process card until the card manager answers GlobalPlatform
//! LOAD and INSTALL.

use oxicard_apdu::Aid;
use oxicard_sim::runner::ScriptCard;

use crate::CardChannel;

fn no_card_manager(channel: &dyn CardChannel, what: &str) -> String {
    format!(
        "{what} needs the in-process simulator: {} has no card manager to load CAP files \
         through yet (run with --skip-install when the applets are already on the card)",
        channel.name()
    )
}

impl ScriptCard for dyn CardChannel + '_ {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, String> {
        CardChannel::transmit(self, command).map_err(|e| e.to_string())
    }

    fn reset(&mut self) -> Result<(), String> {
        CardChannel::reset(self).map_err(|e| e.to_string())
    }

    fn load(&mut self, package: &Aid) -> Result<(), String> {
        match self.sim_card() {
            Some(card) => card.load(package).map_err(|e| e.to_string()),
            None => Err(no_card_manager(self, "load")),
        }
    }

    fn install(
        &mut self,
        package: &Aid,
        applet: &Aid,
        instance: &Aid,
        params: &[u8],
    ) -> Result<(), String> {
        match self.sim_card() {
            Some(card) => card
                .install(package, applet, instance, params)
                .map_err(|e| e.to_string()),
            None => Err(no_card_manager(self, "install")),
        }
    }
}
