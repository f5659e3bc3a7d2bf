//! The system's names for users, hosts and services, as the printers ask
//! for them.

use crate::model::IpProto;
use crate::net::Names;
use crate::print::NameLookup;
use crate::users::Users;
use std::net::IpAddr;

#[derive(Default)]
pub(crate) struct SystemNames {
    users: Users,
    net: Names,
}

impl NameLookup for SystemNames {
    fn host(&self, ip: IpAddr) -> Option<String> {
        Some(self.net.host(ip))
    }

    fn service(&self, port: u16, proto: IpProto) -> Option<String> {
        self.net.service(port, proto).map(str::to_string)
    }

    fn user(&self, uid: u32) -> Option<String> {
        self.users.name_of(uid)
    }
}
