//! Ethernet ports: probe by DPDK device string, configure N queues, start, stop, link, stats.

use crate::error::{Error, Result};
use crate::mempool::PktPool;
use crate::ring::Ring;
use std::ffi::{CStr, CString};

/// Link state as the PMD reports it (`rte_eth_link_get_nowait`: never blocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Link {
    /// Carrier up.
    pub up: bool,
    /// Speed in Mb/s; 0 when unknown.
    pub speed_mbps: u32,
    /// Full duplex.
    pub full_duplex: bool,
    /// Autonegotiated.
    pub autoneg: bool,
}

/// Basic counters of a port (`rte_eth_stats_get`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct PortStats {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_missed: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    pub rx_nombuf: u64,
}

/// What a port can do.
#[derive(Debug, Clone)]
pub struct DevInfo {
    pub driver: String,
    pub max_rx_queues: u16,
    pub max_tx_queues: u16,
    pub socket: i32,
}

/// How to configure a port.
#[derive(Debug, Clone, Copy)]
pub struct PortConfig {
    pub rx_queues: u16,
    pub tx_queues: u16,
    pub rx_desc: u16,
    pub tx_desc: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Probed,
    Configured,
    Started,
    Closed,
}

/// One DPDK ethdev port, stopped and closed on drop.
pub struct Port {
    id: u16,
    name: String,
    device: String,
    state: State,
    rx_queues: u16,
    tx_queues: u16,
}

impl std::fmt::Debug for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Port")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("device", &self.device)
            .finish()
    }
}

/// The device name of a DPDK device string: what comes before the first comma.
pub fn device_name(devargs: &str) -> &str {
    devargs.split(',').next().unwrap_or("").trim()
}

fn port_by_name(name: &str) -> Option<u16> {
    let c = CString::new(name).ok()?;
    let mut id = 0u16;
    // SAFETY: valid C string and out pointer.
    let rc = unsafe { dpdk_sys::rte_eth_dev_get_port_by_name(c.as_ptr(), &mut id) };
    (rc == 0).then_some(id)
}

impl Port {
    /// Probes a device from its DPDK device string (`net_null0`, `net_pcap0,rx_pcap=x.pcap`,
    /// `0000:01:00.0`...) and returns its port. Nothing is configured or started.
    pub fn probe(devargs: &str) -> Result<Port> {
        crate::eal::ensure_ready()?;
        let name = device_name(devargs);
        if name.is_empty() {
            return Err(Error::invalid(
                format!("device {devargs:?}"),
                "empty device name",
            ));
        }
        if port_by_name(name).is_some() {
            return Err(Error::invalid(
                format!("device {devargs:?}"),
                format!("a port named {name:?} already exists"),
            ));
        }
        let c = CString::new(devargs)
            .map_err(|_| Error::invalid(format!("device {devargs:?}"), "contains NUL"))?;
        // SAFETY: valid C string.
        let rc = unsafe { dpdk_sys::rte_dev_probe(c.as_ptr()) };
        if rc < 0 {
            return Err(Error::dpdk(
                format!("probing DPDK device {devargs:?} (unknown driver or bad arguments?)"),
                rc,
            ));
        }
        let id = port_by_name(name).ok_or_else(|| {
            Error::invalid(
                format!("device {devargs:?}"),
                "probed, but it created no Ethernet port of that name",
            )
        })?;
        Ok(Port::adopt(id, name, devargs))
    }

    /// A port made of DPDK rings (`rte_eth_from_rings`): what is enqueued on `rx[q]` arrives on
    /// RX queue q, and what is sent on TX queue q can be dequeued from `tx[q]`. For tests and
    /// in-process benchmarks.
    pub fn from_rings(name: &str, rx: &[&Ring], tx: &[&Ring]) -> Result<Port> {
        crate::eal::ensure_ready()?;
        let c = CString::new(name)
            .map_err(|_| Error::invalid(format!("port name {name:?}"), "contains NUL"))?;
        let rxp: Vec<*mut dpdk_sys::rte_ring> = rx.iter().map(|r| r.as_ptr()).collect();
        let txp: Vec<*mut dpdk_sys::rte_ring> = tx.iter().map(|r| r.as_ptr()).collect();
        // SAFETY: arrays are valid for their lengths; rings outlive the port (caller's duty).
        let rc = unsafe {
            dpdk_sys::rte_eth_from_rings(
                c.as_ptr(),
                rxp.as_ptr(),
                rxp.len() as u32,
                txp.as_ptr(),
                txp.len() as u32,
                0,
            )
        };
        if rc < 0 {
            return Err(Error::last(format!("creating ring port {name:?}")));
        }
        Ok(Port::adopt(rc as u16, name, &format!("rings:{name}")))
    }

    fn adopt(id: u16, name: &str, device: &str) -> Port {
        Port {
            id,
            name: name.to_owned(),
            device: device.to_owned(),
            state: State::Probed,
            rx_queues: 0,
            tx_queues: 0,
        }
    }

    /// DPDK port id.
    pub fn id(&self) -> u16 {
        self.id
    }

    /// Device name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The device string it was probed with.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// Configured RX queues.
    pub fn rx_queues(&self) -> u16 {
        self.rx_queues
    }

    /// Configured TX queues.
    pub fn tx_queues(&self) -> u16 {
        self.tx_queues
    }

    /// Driver capabilities.
    pub fn info(&self) -> Result<DevInfo> {
        let mut info = dpdk_sys::rte_eth_dev_info::default();
        // SAFETY: valid port and out pointer.
        let rc = unsafe { dpdk_sys::rte_eth_dev_info_get(self.id, &mut info) };
        if rc != 0 {
            return Err(Error::dpdk(
                format!("port {}: reading device info", self.name),
                rc,
            ));
        }
        let driver = if info.driver_name.is_null() {
            String::new()
        } else {
            // SAFETY: NUL-terminated driver name owned by DPDK.
            unsafe { CStr::from_ptr(info.driver_name) }
                .to_string_lossy()
                .into_owned()
        };
        // SAFETY: valid port.
        let socket = unsafe { dpdk_sys::rte_eth_dev_socket_id(self.id) };
        Ok(DevInfo {
            driver,
            max_rx_queues: info.max_rx_queues,
            max_tx_queues: info.max_tx_queues,
            socket,
        })
    }

    /// Configures queues and descriptor rings; RX queues take mbufs from `pool`.
    pub fn configure(&mut self, cfg: &PortConfig, pool: &PktPool) -> Result<()> {
        if self.state == State::Started {
            return Err(Error::invalid(
                format!("port {}", self.name),
                "cannot configure a started port",
            ));
        }
        let info = self.info()?;
        if cfg.rx_queues > info.max_rx_queues || cfg.tx_queues > info.max_tx_queues {
            return Err(Error::invalid(
                format!("port {}", self.name),
                format!(
                    "needs {} RX and {} TX queues, driver {} offers at most {} and {}",
                    cfg.rx_queues,
                    cfg.tx_queues,
                    info.driver,
                    info.max_rx_queues,
                    info.max_tx_queues
                ),
            ));
        }
        let conf = dpdk_sys::rte_eth_conf::default();
        // SAFETY: valid port; conf zeroed = no offloads, no RSS.
        let rc = unsafe {
            dpdk_sys::rte_eth_dev_configure(self.id, cfg.rx_queues, cfg.tx_queues, &conf)
        };
        if rc != 0 {
            return Err(Error::dpdk(format!("port {}: configure", self.name), rc));
        }
        let socket = info.socket.max(0) as u32;
        for q in 0..cfg.rx_queues {
            // SAFETY: valid port/queue; NULL rxconf = driver defaults; pool outlives the port.
            let rc = unsafe {
                dpdk_sys::rte_eth_rx_queue_setup(
                    self.id,
                    q,
                    cfg.rx_desc,
                    socket,
                    std::ptr::null(),
                    pool.as_ptr(),
                )
            };
            if rc != 0 {
                return Err(Error::dpdk(
                    format!("port {}: setting up RX queue {q}", self.name),
                    rc,
                ));
            }
        }
        for q in 0..cfg.tx_queues {
            // SAFETY: valid port/queue; NULL txconf = driver defaults.
            let rc = unsafe {
                dpdk_sys::rte_eth_tx_queue_setup(self.id, q, cfg.tx_desc, socket, std::ptr::null())
            };
            if rc != 0 {
                return Err(Error::dpdk(
                    format!("port {}: setting up TX queue {q}", self.name),
                    rc,
                ));
            }
        }
        self.rx_queues = cfg.rx_queues;
        self.tx_queues = cfg.tx_queues;
        self.state = State::Configured;
        Ok(())
    }

    /// Starts the port.
    pub fn start(&mut self) -> Result<()> {
        if self.state != State::Configured {
            return Err(Error::invalid(
                format!("port {}", self.name),
                "start needs a configured, stopped port",
            ));
        }
        // SAFETY: valid configured port.
        let rc = unsafe { dpdk_sys::rte_eth_dev_start(self.id) };
        if rc != 0 {
            return Err(Error::dpdk(format!("port {}: start", self.name), rc));
        }
        self.state = State::Started;
        Ok(())
    }

    /// True while started.
    pub fn is_started(&self) -> bool {
        self.state == State::Started
    }

    /// Stops the port (its queues keep their configuration).
    pub fn stop(&mut self) -> Result<()> {
        if self.state != State::Started {
            return Ok(());
        }
        // SAFETY: valid started port.
        let rc = unsafe { dpdk_sys::rte_eth_dev_stop(self.id) };
        self.state = State::Configured;
        if rc != 0 {
            return Err(Error::dpdk(format!("port {}: stop", self.name), rc));
        }
        Ok(())
    }

    /// Stops and closes the port, releasing its queues (and whatever mbufs the PMD holds).
    pub fn close(&mut self) -> Result<()> {
        if self.state == State::Closed {
            return Ok(());
        }
        if let Some(f) = EMULATED_DOWN.get(self.id as usize) {
            f.store(false, std::sync::atomic::Ordering::Relaxed);
        }
        let stopped = self.stop();
        // SAFETY: valid port; after this the id is invalid.
        let rc = unsafe { dpdk_sys::rte_eth_dev_close(self.id) };
        self.state = State::Closed;
        stopped?;
        if rc != 0 {
            return Err(Error::dpdk(format!("port {}: close", self.name), rc));
        }
        Ok(())
    }

    /// Closes the port and removes its device, so that the same device string can be probed
    /// again in this process (a closed port's device otherwise stays attached, and probing
    /// it again fails).
    pub fn detach(mut self) -> Result<()> {
        let mut info = dpdk_sys::rte_eth_dev_info::default();
        // SAFETY: valid port and out pointer.
        let rc = unsafe { dpdk_sys::rte_eth_dev_info_get(self.id, &mut info) };
        let device = if rc == 0 {
            info.device
        } else {
            std::ptr::null_mut()
        };
        self.close()?;
        if device.is_null() {
            return Ok(());
        }
        // SAFETY: the device of the port just closed; DPDK frees it.
        let rc = unsafe { dpdk_sys::rte_dev_remove(device) };
        if rc != 0 {
            return Err(Error::dpdk(
                format!("port {}: removing its device", self.name),
                rc,
            ));
        }
        Ok(())
    }

    /// Receives and frees everything waiting in every RX queue; returns how many were freed.
    /// Call it with no worker polling the port.
    pub fn drain_rx(&self) -> usize {
        let mut freed = 0;
        for q in 0..self.rx_queues {
            // A PMD that generates packets (net_null) never runs dry: bound the effort.
            for _ in 0..1024 {
                let mut b = crate::burst::Burst::new();
                let n = b.rx(self.id, q);
                freed += n;
                if n == 0 {
                    break;
                }
            }
        }
        freed
    }

    /// The port's MAC address.
    pub fn mac(&self) -> Result<[u8; 6]> {
        let mut a = dpdk_sys::rte_ether_addr::default();
        // SAFETY: valid port and out pointer.
        let rc = unsafe { dpdk_sys::rte_eth_macaddr_get(self.id, &mut a) };
        if rc != 0 {
            return Err(Error::dpdk(format!("port {}: reading MAC", self.name), rc));
        }
        Ok(a.addr_bytes)
    }

    /// Sets the port's MAC address.
    pub fn set_mac(&self, mac: [u8; 6]) -> Result<()> {
        let mut a = dpdk_sys::rte_ether_addr { addr_bytes: mac };
        // SAFETY: valid port and address.
        let rc = unsafe { dpdk_sys::rte_eth_dev_default_mac_addr_set(self.id, &mut a) };
        if rc != 0 {
            return Err(Error::dpdk(format!("port {}: setting MAC", self.name), rc));
        }
        Ok(())
    }

    /// Turns promiscuous mode on or off.
    pub fn set_promiscuous(&self, on: bool) -> Result<()> {
        // SAFETY: valid port.
        let rc = unsafe {
            if on {
                dpdk_sys::rte_eth_promiscuous_enable(self.id)
            } else {
                dpdk_sys::rte_eth_promiscuous_disable(self.id)
            }
        };
        if rc != 0 {
            return Err(Error::dpdk(
                format!(
                    "port {}: promiscuous {}",
                    self.name,
                    if on { "on" } else { "off" }
                ),
                rc,
            ));
        }
        Ok(())
    }

    /// The link as the PMD sees it now.
    pub fn link(&self) -> Link {
        link_of(self.id)
    }

    /// Forces the link up or down (`rte_eth_dev_set_link_up/down`; net_ring and net_null
    /// support it, which is how tests inject failures).
    pub fn set_link(&self, up: bool) -> Result<LinkControl> {
        set_link_of(self.id, up)
            .map_err(|rc| Error::dpdk(format!("port {}: set link {}", self.name, updown(up)), rc))
    }

    /// Basic counters.
    pub fn stats(&self) -> Result<PortStats> {
        stats_of(self.id).map_err(|rc| Error::dpdk(format!("port {}: stats", self.name), rc))
    }

    /// Zeroes the basic counters.
    pub fn reset_stats(&self) -> Result<()> {
        // SAFETY: valid port.
        let rc = unsafe { dpdk_sys::rte_eth_stats_reset(self.id) };
        if rc != 0 {
            return Err(Error::dpdk(format!("port {}: stats reset", self.name), rc));
        }
        Ok(())
    }

    /// Extended counters, by name.
    pub fn xstats(&self) -> Result<Vec<(String, u64)>> {
        // SAFETY: NULL/0 asks for the count.
        let n = unsafe { dpdk_sys::rte_eth_xstats_get_names(self.id, std::ptr::null_mut(), 0) };
        if n < 0 {
            return Err(Error::dpdk(format!("port {}: xstats names", self.name), n));
        }
        let mut names = vec![dpdk_sys::rte_eth_xstat_name { name: [0; 64] }; n as usize];
        let mut vals = vec![dpdk_sys::rte_eth_xstat::default(); n as usize];
        // SAFETY: arrays sized as DPDK asked.
        let got =
            unsafe { dpdk_sys::rte_eth_xstats_get_names(self.id, names.as_mut_ptr(), n as u32) };
        // SAFETY: as above.
        let got2 = unsafe { dpdk_sys::rte_eth_xstats_get(self.id, vals.as_mut_ptr(), n as u32) };
        if got < 0 || got2 < 0 {
            return Err(Error::dpdk(
                format!("port {}: xstats", self.name),
                got.min(got2),
            ));
        }
        Ok(vals
            .iter()
            .take(got2.min(got) as usize)
            .map(|v| {
                let nm = &names[v.id as usize].name;
                // SAFETY: DPDK NUL-terminates names within the 64 bytes.
                let s = unsafe { CStr::from_ptr(nm.as_ptr()) }
                    .to_string_lossy()
                    .into_owned();
                (s, v.value)
            })
            .collect())
    }
}

impl Drop for Port {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            tracing::warn!("closing port {}: {e}", self.name);
        }
    }
}

fn updown(up: bool) -> &'static str {
    if up { "up" } else { "down" }
}

/// Ports whose carrier bondd holds down itself, because their PMD cannot force its link
/// (net_null, net_pcap, net_af_packet...). One flag per DPDK port id.
static EMULATED_DOWN: [std::sync::atomic::AtomicBool; dpdk_sys::RTE_MAX_ETHPORTS as usize] =
    [const { std::sync::atomic::AtomicBool::new(false) }; dpdk_sys::RTE_MAX_ETHPORTS as usize];

/// The link of any port id, without blocking. A port whose carrier bondd emulates (see
/// [`set_link_of`]) reads as down while it is held down.
pub fn link_of(port: u16) -> Link {
    let mut l = dpdk_sys::rte_eth_link::default();
    // SAFETY: valid out pointer; an invalid port returns an error and leaves l zeroed.
    unsafe { dpdk_sys::rte_eth_link_get_nowait(port, &mut l) };
    let held_down = EMULATED_DOWN
        .get(port as usize)
        .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed));
    Link {
        up: l.link_status() != 0 && !held_down,
        speed_mbps: if l.link_speed == u32::MAX {
            0
        } else {
            l.link_speed
        },
        full_duplex: l.link_duplex() != 0,
        autoneg: l.link_autoneg() != 0,
    }
}

/// How a link change was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkControl {
    /// The PMD changed its link (`rte_eth_dev_set_link_up/down`).
    Pmd,
    /// The PMD cannot; bondd holds the carrier down in [`link_of`] instead. The port still
    /// transmits what it is given, so frames sent to it before the monitor notices are
    /// counted as lost by whoever measures.
    Emulated,
}

/// Forces the link of any port id; returns the DPDK error code on failure.
pub fn set_link_of(port: u16, up: bool) -> std::result::Result<LinkControl, i32> {
    // SAFETY: plain calls on a port id; DPDK checks validity.
    let rc = unsafe {
        if up {
            dpdk_sys::rte_eth_dev_set_link_up(port)
        } else {
            dpdk_sys::rte_eth_dev_set_link_down(port)
        }
    };
    let flag = EMULATED_DOWN.get(port as usize);
    if rc == 0 {
        if let Some(f) = flag {
            f.store(false, std::sync::atomic::Ordering::Relaxed);
        }
        return Ok(LinkControl::Pmd);
    }
    if (rc == -libc::ENOTSUP || rc == -libc::EOPNOTSUPP)
        && let Some(f) = flag
    {
        f.store(!up, std::sync::atomic::Ordering::Relaxed);
        return Ok(LinkControl::Emulated);
    }
    Err(rc)
}

/// Basic counters of any port id.
pub fn stats_of(port: u16) -> std::result::Result<PortStats, i32> {
    let mut s = dpdk_sys::rte_eth_stats::default();
    // SAFETY: valid out pointer.
    let rc = unsafe { dpdk_sys::rte_eth_stats_get(port, &mut s) };
    if rc != 0 {
        return Err(rc);
    }
    Ok(PortStats {
        rx_packets: s.ipackets,
        tx_packets: s.opackets,
        rx_bytes: s.ibytes,
        tx_bytes: s.obytes,
        rx_missed: s.imissed,
        rx_errors: s.ierrors,
        tx_errors: s.oerrors,
        rx_nombuf: s.rx_nombuf,
    })
}
