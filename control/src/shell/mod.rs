//! The testpmd-style shell: one command grammar for the interactive prompt
//! (`bondd run -i`, `bondd shell`) and the control socket (`bondd ctl`).

pub mod exec;
pub mod grammar;
pub mod prompt;
pub mod server;
