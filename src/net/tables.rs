//! The socket tables of every network namespace met during a run, each read
//! once, lazily, through `/proc/PID/net/*` of the first process of that
//! namespace that needs it (so containers' sockets are found too; lsof
//! reads only its own `/proc/net`).

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, TryLockError};

use super::diag::{query_unix_diag, query_unix_diag_in, UnixDiag};
use super::inet_diag::{dump_tcp_tables, dump_udp_table};
use super::parse::TableParser;
use super::store::{for_each_line, InodeSet, Table};
use std::net::IpAddr;

use crate::model::{IpProto, SocketInfo};

/// One of the kernel's socket tables under `/proc/net`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketTable {
    Unix,
    Tcp,
    Tcp6,
    Udp,
    Udp6,
    Netlink,
    Packet,
    Raw,
    Raw6,
    UdpLite,
    UdpLite6,
    Icmp,
    /// Read only on request: lsof 4.95 does not know ICMPv6 ("ping6")
    /// sockets and shows them as `sock` with `protocol: PINGv6`.
    Icmp6,
}

impl SocketTable {
    /// Every table, ICMPv6 (which lsof 4.95 does not read) last.
    pub const ALL: [SocketTable; 13] = [
        SocketTable::Unix,
        SocketTable::Tcp,
        SocketTable::Tcp6,
        SocketTable::Udp,
        SocketTable::Udp6,
        SocketTable::Netlink,
        SocketTable::Packet,
        SocketTable::Raw,
        SocketTable::Raw6,
        SocketTable::UdpLite,
        SocketTable::UdpLite6,
        SocketTable::Icmp,
        SocketTable::Icmp6,
    ];

    /// The tables lsof 4.95 searches, most common first so that a process
    /// with only UNIX sockets causes only `/proc/net/unix` to be read:
    /// every table but the last, ICMPv6.
    pub const LSOF: &'static [SocketTable] = Self::ALL.split_at(Self::ALL.len() - 1).0;

    /// The TCP and UDP tables: the sockets `-i` can select.
    pub const TCP_UDP: [SocketTable; 6] = [
        SocketTable::Tcp,
        SocketTable::Tcp6,
        SocketTable::Udp,
        SocketTable::Udp6,
        SocketTable::UdpLite,
        SocketTable::UdpLite6,
    ];

    /// The tables lsof 4.95 reads under `-X`.
    pub const WITHOUT_TCP_UDP: [SocketTable; 5] = [
        SocketTable::Unix,
        SocketTable::Netlink,
        SocketTable::Packet,
        SocketTable::Raw,
        SocketTable::Icmp,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            SocketTable::Unix => "unix",
            SocketTable::Tcp => "tcp",
            SocketTable::Tcp6 => "tcp6",
            SocketTable::Udp => "udp",
            SocketTable::Udp6 => "udp6",
            SocketTable::Netlink => "netlink",
            SocketTable::Packet => "packet",
            SocketTable::Raw => "raw",
            SocketTable::Raw6 => "raw6",
            SocketTable::UdpLite => "udplite",
            SocketTable::UdpLite6 => "udplite6",
            SocketTable::Icmp => "icmp",
            SocketTable::Icmp6 => "icmp6",
        }
    }

    /// The table holding sockets of a kernel protocol name, as the
    /// `system.sockprotoname` xattr of `/proc/PID/fd/N` gives it.
    pub fn for_protocol_name(name: &[u8]) -> Option<SocketTable> {
        Some(match name {
            b"UNIX" | b"UNIX-STREAM" => SocketTable::Unix,
            b"TCP" => SocketTable::Tcp,
            b"TCPv6" => SocketTable::Tcp6,
            b"UDP" => SocketTable::Udp,
            b"UDPv6" => SocketTable::Udp6,
            b"NETLINK" => SocketTable::Netlink,
            b"PACKET" => SocketTable::Packet,
            b"RAW" => SocketTable::Raw,
            b"RAWv6" => SocketTable::Raw6,
            b"UDP-Lite" => SocketTable::UdpLite,
            b"UDPLITEv6" => SocketTable::UdpLite6,
            b"PING" => SocketTable::Icmp,
            b"PINGv6" => SocketTable::Icmp6,
            _ => return None,
        })
    }

    /// Parses this table's text (pure; see the parser modules).
    pub fn parse(self, mut text: &[u8]) -> Table {
        let mut parser = TableParser::new(self);
        for_each_line(&mut text, |line| parser.line(line));
        parser.finish()
    }

    /// Reads and parses the table at `path` a chunk at a time, keeping
    /// only the sockets in `only` when given.
    fn read(self, path: &Path, only: Option<Arc<InodeSet>>) -> std::io::Result<Table> {
        let mut file = std::fs::File::open(path)?;
        let mut parser = TableParser::new(self).keeping_only(only);
        for_each_line(&mut file, |line| parser.line(line));
        Ok(parser.finish())
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Reads a table of network namespace `namespace` from a thread that
/// joins it: `/proc/thread-self/net` is that thread's namespace's.
fn read_joined(
    namespace: &OwnedFd,
    table: SocketTable,
    only: Option<Arc<InodeSet>>,
) -> Option<Table> {
    let namespace = namespace.try_clone().ok()?;
    std::thread::spawn(move || {
        // SAFETY: setns on a namespace fd we hold; it changes only this
        // thread's network namespace, and the thread ends right after.
        let joined = unsafe { libc::setns(namespace.as_raw_fd(), libc::CLONE_NEWNET) };
        if joined != 0 {
            return None;
        }
        let path = Path::new("/proc/thread-self/net").join(table.file_name());
        table.read(&path, only).ok()
    })
    .join()
    .ok()
    .flatten()
}

/// A value computed at most once, by the first caller that succeeds.
struct Lazy<T> {
    value: OnceLock<T>,
    loading: Mutex<()>,
}

impl<T> Default for Lazy<T> {
    fn default() -> Self {
        Lazy {
            value: OnceLock::new(),
            loading: Mutex::new(()),
        }
    }
}

impl<T> Lazy<T> {
    fn get_or_try(&self, load: impl FnOnce() -> Option<T>) -> Option<&T> {
        if let Some(value) = self.value.get() {
            return Some(value);
        }
        let _only_one_loader = self.loading.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(value) = self.value.get() {
            return Some(value);
        }
        let _ = self.value.set(load()?);
        self.value.get()
    }

    /// Like `get_or_try`, but Err(Busy) instead of waiting while another
    /// thread loads the value.
    fn get_or_try_unless_busy(&self, load: impl FnOnce() -> Option<T>) -> Result<Option<&T>, Busy> {
        if let Some(value) = self.value.get() {
            return Ok(Some(value));
        }
        let _only_one_loader = match self.loading.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return Err(Busy),
        };
        if let Some(value) = self.value.get() {
            return Ok(Some(value));
        }
        let _ = self.value.set(match load() {
            Some(value) => value,
            None => return Ok(None),
        });
        Ok(self.value.get())
    }

    /// `get_or_try` when `wait`, else `get_or_try_unless_busy`.
    fn get_waiting_or_not(
        &self,
        wait: bool,
        load: impl FnOnce() -> Option<T>,
    ) -> Result<Option<&T>, Busy> {
        if wait {
            Ok(self.get_or_try(load))
        } else {
            self.get_or_try_unless_busy(load)
        }
    }
}

/// Another thread is loading the value.
struct Busy;

/// An established TCP/UDP connection's ends, to find the other end of a
/// connection within the machine.
type ConnectionKey = (IpProto, (IpAddr, u16), (IpAddr, u16));

#[derive(Default)]
struct Namespace {
    tables: [Lazy<Table>; SocketTable::ALL.len()],
    /// Both TCP tables from one inet_diag dump; None if the dump failed.
    tcp_dump: Lazy<Option<[Table; 2]>>,
    unix_diag: Lazy<UnixDiag>,
    connections: Lazy<HashMap<ConnectionKey, u64>>,
}

/// All socket tables of the run, per network namespace. Shared by the
/// scanning threads (`&NetTables` is `Sync`).
pub(crate) struct NetTables {
    proc_root: PathBuf,
    own_netns: Option<u64>,
    /// Whether `proc_root` is this machine's /proc, so that our own
    /// namespace's TCP and UDP tables can be asked of the kernel directly.
    live: bool,
    /// Our own namespace's tables, found without taking a lock.
    own: Namespace,
    namespaces: Mutex<HashMap<u64, Arc<Namespace>>>,
    /// The sockets to keep from every table (None: all of them): those a
    /// batch of processes holds, so that memory does not grow with the
    /// sockets of the machine (see [`NetTables::only`]).
    only: Option<Arc<InodeSet>>,
    /// Lookups left of sockets outside `only`, each a pass over the tables;
    /// shared by the batches of a listing.
    strays_left: Arc<AtomicUsize>,
}

/// Sockets outside a batch's set (opened since the set was taken, or held
/// by a thread with descriptors of its own) looked up one by one, each by
/// a pass over the tables, this many per listing: a server accepting
/// connections meanwhile must not cost a pass per connection. Beyond them
/// such a socket is shown as lsof shows one opened after it read the
/// tables.
pub(super) const STRAY_LOOKUPS: usize = 4;

/// A namespace's tables: ours, or another's held by its `Arc`.
enum NamespaceRef<'a> {
    Own(&'a Namespace),
    Other(Arc<Namespace>),
}

impl std::ops::Deref for NamespaceRef<'_> {
    type Target = Namespace;

    fn deref(&self) -> &Namespace {
        match self {
            NamespaceRef::Own(namespace) => namespace,
            NamespaceRef::Other(namespace) => namespace,
        }
    }
}

impl NetTables {
    pub(crate) fn new(proc_root: &Path) -> NetTables {
        NetTables {
            proc_root: proc_root.to_path_buf(),
            own_netns: crate::sys::netns::own(proc_root),
            live: proc_root == Path::new("/proc"),
            own: Namespace::default(),
            namespaces: Mutex::new(HashMap::new()),
            only: None,
            strays_left: Arc::new(AtomicUsize::new(STRAY_LOOKUPS)),
        }
    }

    /// Tables that hold only the sockets with these inodes: a batch of
    /// processes' sockets, as the kernel listed them (see `crate::bpf`).
    /// Another socket is still found, by a pass of its own over the
    /// tables, a few times per listing.
    pub(crate) fn only(proc_root: &Path, inodes: InodeSet) -> NetTables {
        NetTables {
            only: Some(Arc::new(inodes)),
            ..NetTables::new(proc_root)
        }
    }

    /// Fresh tables for the next batch of the same listing (None: whole
    /// tables), sharing what is left of its lookups of other sockets.
    pub(crate) fn next_batch(&self, only: Option<InodeSet>) -> NetTables {
        NetTables {
            only: only.map(Arc::new),
            strays_left: Arc::clone(&self.strays_left),
            ..NetTables::new(&self.proc_root)
        }
    }

    /// Our own network namespace: what to pass when `sys::netns::of_pid` fails for
    /// a process (lsof then reads its own `/proc/net`); use pid 0 with it.
    pub(crate) fn own_netns(&self) -> u64 {
        self.own_netns.unwrap_or(0)
    }

    /// The socket with this inode in namespace `netns`, searching the
    /// tables lsof searches ([`SocketTable::LSOF`]) and reading each the
    /// first time it is needed, through `/proc/PID/net` (`pid <= 0`: through
    /// `/proc/net`). A UNIX socket's `peer` is not filled: see
    /// [`NetTables::unix_peer`].
    pub(crate) fn lookup(&self, netns: u64, pid: i32, inode: u64) -> Option<SocketInfo> {
        self.lookup_in(netns, pid, inode, SocketTable::LSOF)
    }

    /// Like [`NetTables::lookup`], searching only the given tables (e.g.
    /// the one named by the socket's `system.sockprotoname`).
    pub(crate) fn lookup_in(
        &self,
        netns: u64,
        pid: i32,
        inode: u64,
        tables: &[SocketTable],
    ) -> Option<SocketInfo> {
        let namespace = self.namespace(netns);
        // A table another thread is reading is searched last: meanwhile
        // this thread reads the others rather than waiting, so no CPU
        // idles at the start of a scan. (An inode is in one table only.)
        let mut busy = Vec::new();
        for &table in tables {
            match self.table_unless_busy(&namespace, netns, pid, table) {
                Ok(found) => {
                    if let Some(info) = found.and_then(|t| t.get(inode)) {
                        return Some(info);
                    }
                }
                Err(Busy) => busy.push(table),
            }
        }
        busy.into_iter()
            .find_map(|table| self.table(&namespace, netns, pid, table)?.get(inode))
            .or_else(|| self.stray(netns, pid, inode, tables))
    }

    /// The socket with this inode in the network namespace `namespace`
    /// (an open namespace file whose inode is `netns`), which may have no
    /// process in it: its tables are read from a thread that joins it
    /// (root only). None when it cannot be joined or lacks the socket.
    pub(crate) fn lookup_joined(
        &self,
        netns: u64,
        namespace: &OwnedFd,
        inode: u64,
        tables: &[SocketTable],
    ) -> Option<SocketInfo> {
        if !self.live {
            return None;
        }
        let entry = self.namespace(netns);
        tables.iter().find_map(|&table| {
            let only = self.only.clone();
            let read = || read_joined(namespace, table, only);
            entry.tables[table.index()].get_or_try(read)?.get(inode)
        })
    }

    /// A socket outside `only`, looked up in tables read for it alone.
    fn stray(
        &self,
        netns: u64,
        pid: i32,
        inode: u64,
        tables: &[SocketTable],
    ) -> Option<SocketInfo> {
        if self.only.as_ref()?.contains(&inode) {
            return None;
        }
        let left = |n: usize| n.checked_sub(1);
        self.strays_left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, left)
            .ok()?;
        let alone = NetTables::only(&self.proc_root, InodeSet::from([inode]));
        alone.strays_left.store(0, Ordering::Relaxed);
        alone.lookup_in(netns, pid, inode, tables)
    }

    /// Reads these tables of our own network namespace now, on the
    /// calling thread, so that the scanning threads find them read.
    pub(crate) fn preload(&self, tables: &[SocketTable]) {
        let Some(netns) = self.own_netns else {
            return;
        };
        let namespace = self.namespace(netns);
        for &table in tables {
            let _ = self.table(&namespace, netns, 0, table);
        }
    }

    /// The peer inode of a UNIX socket (unix_diag, queried once per
    /// namespace on first use; for another namespace than ours a thread
    /// joins it with `setns`).
    pub(crate) fn unix_peer(&self, netns: u64, pid: i32, inode: u64) -> Option<u64> {
        let namespace = self.namespace(netns);
        self.unix_diag(&namespace, netns, pid)?
            .peers
            .get(&inode)
            .copied()
    }

    /// The not yet accepted connections of a listening UNIX socket.
    pub(crate) fn unix_incoming(&self, netns: u64, pid: i32, inode: u64) -> Vec<u64> {
        let namespace = self.namespace(netns);
        self.unix_diag(&namespace, netns, pid)
            .and_then(|diag| diag.incoming.get(&inode).cloned())
            .unwrap_or_default()
    }

    /// The other end of an established TCP or UDP connection whose two ends
    /// are both in this namespace (lsof's `+E` for INET sockets): the socket
    /// whose local and remote ends are this one's remote and local ends.
    pub(crate) fn ip_peer(&self, netns: u64, pid: i32, inode: u64) -> Option<u64> {
        let tables = SocketTable::TCP_UDP;
        let Some(SocketInfo::Ip(socket)) = self.lookup_in(netns, pid, inode, &tables) else {
            return None;
        };
        let remote = socket.remote?;
        let namespace = self.namespace(netns);
        let connections = namespace.connections.get_or_try(|| {
            let mut index = HashMap::new();
            for table in tables {
                let Some(sockets) = self.table(&namespace, netns, pid, table) else {
                    continue;
                };
                sockets.for_each(&mut |inode, info| {
                    if let SocketInfo::Ip(s) = info {
                        if let (Some(remote), Some(1)) = (s.remote, s.state.map(|st| st.0)) {
                            index.entry((s.proto, s.local, remote)).or_insert(inode);
                        }
                    }
                });
            }
            Some(index)
        })?;
        connections
            .get(&(socket.proto, remote, socket.local))
            .copied()
    }

    /// The other end lsof's `+E`/`-E` shows for a socket (`info`, inode
    /// `inode`): a UNIX socket's peer when the peer is in the table, else
    /// (a listening socket) its first waiting connection that is; the
    /// other end of an ESTABLISHED TCP, UDP or UDPLITE socket.
    pub(crate) fn endpoint_peer(
        &self,
        netns: u64,
        pid: i32,
        inode: u64,
        info: &SocketInfo,
    ) -> Option<u64> {
        match info {
            SocketInfo::Unix(_) => {
                let known = |peer: &u64| {
                    self.lookup_in(netns, pid, *peer, &[SocketTable::Unix])
                        .is_some()
                };
                self.unix_peer(netns, pid, inode).filter(known).or_else(|| {
                    self.unix_incoming(netns, pid, inode)
                        .into_iter()
                        .find(known)
                })
            }
            SocketInfo::Ip(ip)
                if ip.state.is_some_and(|s| s.0 == 1)
                    && ip.raw_proto.is_none()
                    && matches!(ip.proto, IpProto::Tcp | IpProto::Udp | IpProto::UdpLite) =>
            {
                self.ip_peer(netns, pid, inode)
            }
            _ => None,
        }
    }

    /// How many sockets a table of namespace `netns` holds (read now if
    /// it was not).
    #[cfg(test)]
    pub(super) fn sockets_in(&self, netns: u64, pid: i32, table: SocketTable) -> Option<usize> {
        let namespace = self.namespace(netns);
        self.table(&namespace, netns, pid, table).map(Table::len)
    }

    fn namespace(&self, netns: u64) -> NamespaceRef<'_> {
        if Some(netns) == self.own_netns {
            return NamespaceRef::Own(&self.own);
        }
        let mut namespaces = self
            .namespaces
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        NamespaceRef::Other(Arc::clone(namespaces.entry(netns).or_default()))
    }

    fn table<'a>(
        &self,
        namespace: &'a Namespace,
        netns: u64,
        pid: i32,
        table: SocketTable,
    ) -> Option<&'a Table> {
        self.table_waiting_or_not(namespace, netns, pid, table, true)
            .unwrap_or(None)
    }

    fn table_unless_busy<'a>(
        &self,
        namespace: &'a Namespace,
        netns: u64,
        pid: i32,
        table: SocketTable,
    ) -> Result<Option<&'a Table>, Busy> {
        self.table_waiting_or_not(namespace, netns, pid, table, false)
    }

    /// Our own namespace's two TCP tables come from one kernel dump (a
    /// failed one is remembered: the text tables are read instead).
    fn table_waiting_or_not<'a>(
        &self,
        namespace: &'a Namespace,
        netns: u64,
        pid: i32,
        table: SocketTable,
        wait: bool,
    ) -> Result<Option<&'a Table>, Busy> {
        let tcp = matches!(table, SocketTable::Tcp | SocketTable::Tcp6);
        if tcp && self.dumps_for(netns, pid) {
            let dumped = namespace
                .tcp_dump
                .get_waiting_or_not(wait, || Some(dump_tcp_tables(self.only.as_deref())))?;
            if let Some(Some([v4, v6])) = dumped {
                return Ok(Some(if table == SocketTable::Tcp { v4 } else { v6 }));
            }
        }
        namespace.tables[table.index()].get_waiting_or_not(wait, || self.load(netns, pid, table))
    }

    /// Whether namespace `netns` (read through `pid`) is ours on the live
    /// /proc, so that the kernel can be asked directly.
    fn dumps_for(&self, netns: u64, pid: i32) -> bool {
        self.live && (pid <= 0 || Some(netns) == self.own_netns)
    }

    /// Reads a table of namespace `netns` through process `pid`: None when
    /// the process is gone, to let another of the namespace load it.
    fn load(&self, netns: u64, pid: i32, table: SocketTable) -> Option<Table> {
        if let Some(dumped) = self
            .dumps_for(netns, pid)
            .then(|| dump_udp_table(table, self.only.as_deref()))
            .flatten()
        {
            return Some(dumped);
        }
        let file = table.file_name();
        let only = || self.only.clone();
        let own = || table.read(&self.proc_root.join("net").join(file), only());
        if pid <= 0 {
            return Some(own().unwrap_or_else(|_| table.parse(b"")));
        }
        let dir = self.proc_root.join(pid.to_string()).join("net");
        match table.read(&dir.join(file), only()) {
            Ok(parsed) => Some(parsed),
            // The table does not exist in a live process's namespace
            // (e.g. no IPv6): remember it as empty.
            Err(_) if dir.exists() => Some(table.parse(b"")),
            Err(_) if Some(netns) == self.own_netns => own().ok(),
            // The process is gone: let another of the namespace load it.
            Err(_) => None,
        }
    }

    fn unix_diag<'a>(
        &self,
        namespace: &'a Namespace,
        netns: u64,
        pid: i32,
    ) -> Option<&'a UnixDiag> {
        namespace.unix_diag.get_or_try(|| {
            if Some(netns) == self.own_netns || pid <= 0 {
                Some(query_unix_diag().unwrap_or_default())
            } else {
                let path = crate::sys::netns::path_of(&self.proc_root, pid);
                // Not joinable though alive: go without; gone: leave it to
                // another process of the namespace.
                query_unix_diag_in(&path).or_else(|| path.exists().then(UnixDiag::default))
            }
        })
    }
}
