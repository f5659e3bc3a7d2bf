//! Machines the programs were not written for (not 64-bit little-endian):
//! no program is built, and every question is answered from `/proc`.

use super::debug::say;
use super::{
    DescribedSocket, HeldSocket, Holdings, KernelFile, ListedFile, ListingFilter, ProcessFiles,
};

const WHY: &str = "this machine is not 64-bit little-endian";

/// None: see the module text.
pub fn held_sockets(_pids: &[i32], _threads: usize) -> Option<Holdings> {
    say(format_args!("who holds sockets: /proc ({WHY})"));
    None
}

pub struct FilesProgram;

impl FilesProgram {
    pub fn load() -> Option<FilesProgram> {
        say(format_args!(
            "descriptor flags and positions: /proc fdinfo ({WHY})"
        ));
        None
    }

    pub fn files_of(&self, _pid: i32) -> Option<Vec<KernelFile>> {
        None
    }
}

pub struct ListingProgram;

impl ListingProgram {
    pub fn load(_filter: ListingFilter) -> Option<ListingProgram> {
        say(format_args!("descriptors: /proc ({WHY})"));
        None
    }

    pub fn shared(_filter: ListingFilter) -> Option<&'static ListingProgram> {
        None
    }

    pub fn asked() -> bool {
        false
    }

    pub fn files_of(&self, _pid: i32) -> Option<Vec<ListedFile>> {
        None
    }
}

pub struct MappingsProgram;

impl MappingsProgram {
    pub fn shared() -> Option<&'static MappingsProgram> {
        say(format_args!("mappings: /proc/PID/maps ({WHY})"));
        None
    }

    pub fn files_of(&self, _pid: i32) -> Option<ProcessFiles> {
        None
    }
}

pub struct SocketsProgram;

impl SocketsProgram {
    pub fn load() -> Option<SocketsProgram> {
        say(format_args!("socket descriptions: /proc/net ({WHY})"));
        None
    }

    pub fn sockets_of(&self, _pid: i32) -> Option<Vec<DescribedSocket>> {
        None
    }
}

pub struct SocketsInPidOrder;

impl SocketsInPidOrder {
    pub fn start() -> Option<SocketsInPidOrder> {
        say(format_args!("sockets in PID order: /proc ({WHY})"));
        None
    }

    pub fn failed(&self) -> bool {
        true
    }
}

impl Iterator for SocketsInPidOrder {
    type Item = HeldSocket;

    fn next(&mut self) -> Option<HeldSocket> {
        None
    }
}
