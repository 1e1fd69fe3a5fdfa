//! 802.3ad (mode 4) in the harness: two bonds facing each other, so that both negotiate with
//! a real partner and both distribute.
//!
//! - `bondd`: one appliance with bond `bondA` over `bondd_ring_pair:<pair i>:0` and bond
//!   `bondB` over `bondd_ring_pair:<pair i>:1`, both `mode=802.3ad lacp_rate=fast` with the
//!   harness's transmit hash policy; paths `src → bondA` and `bondB → dst`.
//! - `net_bonding`: two mode-4 ports `nbA` and `nbB` whose members are ring ports crossed
//!   member by member (what nbA's member i sends, nbB's member i receives, and back), made
//!   here with `Port::from_rings` before the appliance probes the bonding devices; paths
//!   `src → nbA` and `nbB → dst`, the same worker.
//!
//! Both paths are one way: `dst` (a `net_ring`, whose TX ring loops back to its own RX) is
//! never an ingress, so the worker never reads back what it sent there; the receiver drains
//! its TX rings. Every frame is read there: loss, reordering and latency for both bonds.
//! Member shares come from counters: bondd's workers' frames per member of bondA, and
//! the TX statistics of nbA's members for net_bonding.
//!
//! With a replay source (`--source replay`), `src` is a `net_pcap` port replaying in a loop
//! and `dst` a `net_null` port: the worker does everything, and frames are counted by those
//! two ports' statistics instead of being read back.
//!
//! net_bonding's LACP only advances inside the application's bursts: its state machines
//! (an EAL alarm every 100 ms) queue LACPDUs that leave only in `rte_eth_tx_burst` on the
//! bond, and received ones are only taken in `rte_eth_rx_burst`. The worker reads nbB and
//! transmits on nbA; the [`Keeper`] does the rest every 10 ms (see there).

use super::dut::{BondSetup, Placement, Source};
use crate::appliance::Appliance;
use dataplane::port::Port;
use dataplane::ring::{Ring, Sync};
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The system MACs of the two facing bonds (bondd's and net_bonding's alike).
pub const MAC_A: &str = "02:00:00:00:bb:01";
pub const MAC_B: &str = "02:00:00:00:bb:02";

/// How long the bonds may take to distribute on every member.
pub const CONVERGE_TIMEOUT: Duration = Duration::from_secs(10);

/// Ring size of a member link (as `bondd_ring_pair`'s).
const LINK_RING: u32 = 4096;

/// Actor state bits every member must show: aggregatable, in sync, collecting, distributing.
const UP: u8 = 0x3c;

/// Names of the ring pair of bondd's member link `i`.
fn pair(p: u32, k: usize, i: usize) -> String {
    format!("B{p}k{k}m{i}")
}

/// The name given to `rte_eth_from_rings` for net_bonding's member `i` of side `s` ('a' or
/// 'b'); the ethdev (and the bonding device's `slave=`) is `net_ring_` + it.
fn nb_member(p: u32, k: usize, s: char, i: usize) -> String {
    format!("nb{p}_{k}{s}{i}")
}

/// The config text of a mode-4 DUT (`bondd` or `net_bonding`) and its devices (source, then
/// destination).
pub(super) fn config_text(
    net_bonding: bool,
    bond: &BondSetup,
    nb_args: &str,
    place: &Placement,
    k: usize,
    run_dir: &std::path::Path,
) -> (String, Vec<String>) {
    let p = std::process::id() % 10_000;
    let src = super::dut::source_device(bond.source, p, k, run_dir);
    let dst = match bond.source {
        Source::Generator => format!("net_ringB{p}_{k}d"),
        Source::Replay => format!("net_nullB{p}_{k}d,no-rx=1"),
    };
    let mut t = format!(
        "[eal]\nmemory = \"{}\"\n[cores]\ncontrol = {}\nworkers = {:?}\n\
         [[port]]\nname = \"src\"\ndevice = \"{src}\"\n\
         [[port]]\nname = \"dst\"\ndevice = \"{dst}\"\n",
        place.memory, place.control_core, place.workers
    );
    let (a, b) = if net_bonding {
        for (name, side, mac) in [("nbA", 'a', MAC_A), ("nbB", 'b', MAC_B)] {
            let slaves: String = (0..bond.members)
                .map(|i| format!(",slave=net_ring_{}", nb_member(p, k, side, i)))
                .collect();
            // nbB is promiscuous (a `[[port]]`'s default), so it takes the generator's frames
            // whatever their destination MAC, as bondd's bond does.
            let _ = write!(
                t,
                "[[port]]\nname = \"{name}\"\n\
                 device = \"net_bonding_B{p}_{k}{side},{nb_args},mac={mac}{slaves}\"\n"
            );
        }
        ("nbA", "nbB")
    } else {
        for (name, side, mac, member) in [("bondA", 0, MAC_A, "eth"), ("bondB", 1, MAC_B, "peer")] {
            let _ = write!(
                t,
                "[[bond]]\nname = \"{name}\"\nmac = \"{mac}\"\n\
                 options = \"mode=802.3ad miimon={} lacp_rate=fast xmit_hash_policy={} \
                 ad_actor_system={mac}{}\"\n",
                bond.miimon,
                bond.policy,
                if bond.extra.is_empty() {
                    String::new()
                } else {
                    format!(" {}", bond.extra)
                }
            );
            for i in 0..bond.members {
                let _ = write!(
                    t,
                    "[[bond.member]]\nname = \"{member}{i}\"\n\
                     device = \"bondd_ring_pair:{}:{side}\"\n",
                    pair(p, k, i)
                );
            }
        }
        ("bondA", "bondB")
    };
    let _ = write!(
        t,
        "[[forward]]\nfrom = \"src\"\nto = \"{a}\"\nbidirectional = false\n\
         [[forward]]\nfrom = \"{b}\"\nto = \"dst\"\nbidirectional = false\n\
         [run]\nstats_period_ms = 0\nforward_mode = \"io\"\nrun_dir = \"{}\"\n",
        run_dir.display()
    );
    (t, vec![src, dst])
}

/// net_bonding's members: ring ports crossed member by member, one ring per queue and
/// direction.
pub(super) struct Crossed {
    /// nbA's members, then nbB's (closed before the rings go).
    pub ports: Vec<Port>,
    pub rings: Vec<Ring>,
    pub a_ids: Vec<u16>,
    pub b_ids: Vec<u16>,
}

impl Crossed {
    /// Makes `members` links of `queues` queues each way (the bonding devices give their
    /// members as many queues as they have, one per worker).
    pub fn new(k: usize, members: usize, queues: usize) -> dataplane::Result<Crossed> {
        let p = std::process::id() % 10_000;
        let mut c = Crossed {
            ports: Vec::new(),
            rings: Vec::new(),
            a_ids: Vec::new(),
            b_ids: Vec::new(),
        };
        let mut a_ports = Vec::new();
        let mut b_ports = Vec::new();
        for i in 0..members {
            let mut ab = Vec::new();
            let mut ba = Vec::new();
            for q in 0..queues.max(1) {
                // Multi-producer, single-consumer like a ring pair's, so that both DUTs' links
                // cost the same.
                ab.push(Ring::create(
                    &format!("nbr{p}_{k}a{i}q{q}"),
                    LINK_RING,
                    Sync::MultiProducerSingleConsumer,
                )?);
                ba.push(Ring::create(
                    &format!("nbr{p}_{k}b{i}q{q}"),
                    LINK_RING,
                    Sync::MultiProducerSingleConsumer,
                )?);
            }
            let abr: Vec<&Ring> = ab.iter().collect();
            let bar: Vec<&Ring> = ba.iter().collect();
            let a = Port::from_rings(&nb_member(p, k, 'a', i), &bar, &abr)?;
            let b = Port::from_rings(&nb_member(p, k, 'b', i), &abr, &bar)?;
            c.a_ids.push(a.id());
            c.b_ids.push(b.id());
            a_ports.push(a);
            b_ports.push(b);
            c.rings.extend(ab);
            c.rings.extend(ba);
        }
        c.ports.extend(a_ports);
        c.ports.extend(b_ports);
        Ok(c)
    }
}

/// Bursts on the two net_bonding ports where the worker does not, every 10 ms, so that their
/// LACP runs (DPDK asks for an RX and a TX burst on a mode-4 port at least every 100 ms).
///
/// The worker only reads nbB (its RX queues) and only sends on nbA (its TX queues, and only
/// when the source gives it frames). The keeper reads nbA's RX queue 0 (which is where nbB's
/// LACPDUs arrive, as the keeper sends them on nbB's queue 0) and calls a TX burst of no
/// frames on nbB's queue 0: the worker never touches either, since nbA is no path's ingress
/// and nbB no path's egress. That leaves nbA's LACPDUs: they leave in TX bursts on nbA, which
/// the worker makes only under traffic. Until the bonds distribute there is no traffic (the
/// generator starts after [`super::dut::Rig::start`] returns, and the source's rings are new
/// and empty), so the keeper also bursts on nbA's TX queue 0 then, and stops before the rig
/// is handed over ([`Keeper::release_a_tx`]). From then on the worker's bursts carry nbA's
/// LACPDUs. Idle stretches between trials are a few milliseconds, and two net_bonding ports
/// (which always advertise the long timeout) expire a silent partner only after 90 s.
pub(super) struct Keeper {
    stop: Arc<AtomicBool>,
    tx_a: Arc<AtomicBool>,
    rounds: Arc<AtomicU64>,
    handle: Option<std::thread::JoinHandle<u64>>,
}

impl Keeper {
    /// `tx_a`: also burst on nbA's TX queue 0 until [`Keeper::release_a_tx`] (the
    /// generator's rig, idle until the bonds distribute); false when the worker transmits on
    /// nbA from the start (a replay).
    pub fn spawn(a: u16, b: u16, tx_a: bool) -> std::io::Result<Keeper> {
        let stop = Arc::new(AtomicBool::new(false));
        let tx_a = Arc::new(AtomicBool::new(tx_a));
        let rounds = Arc::new(AtomicU64::new(0));
        let handle = {
            let (stop, tx_a, rounds) = (Arc::clone(&stop), Arc::clone(&tx_a), Arc::clone(&rounds));
            std::thread::Builder::new()
                .name("nb-keeper".into())
                .spawn(move || {
                    let mut burst = dataplane::burst::Burst::new();
                    let mut data = 0u64;
                    while !stop.load(Ordering::SeqCst) {
                        // LACPDUs stay inside the bond; anything else is not expected here.
                        data += burst.rx(a, 0) as u64;
                        burst.free_all();
                        // SAFETY: a burst of no frames; queue 0 of a started port, which no
                        // other thread sends on (see above).
                        unsafe { dpdk_sys::rte_eth_tx_burst(b, 0, std::ptr::null_mut(), 0) };
                        if tx_a.load(Ordering::SeqCst) {
                            // SAFETY: as above, while no traffic runs.
                            unsafe { dpdk_sys::rte_eth_tx_burst(a, 0, std::ptr::null_mut(), 0) };
                        }
                        rounds.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    data
                })?
        };
        Ok(Keeper {
            stop,
            tx_a,
            rounds,
            handle: Some(handle),
        })
    }

    /// Stops bursting on nbA's TX queue 0, and returns once no burst of the keeper's can be
    /// under way there any more (the round that may have seen the flag set has ended).
    pub fn release_a_tx(&self) {
        self.tx_a.store(false, Ordering::SeqCst);
        let r = self.rounds.load(Ordering::SeqCst);
        while self.rounds.load(Ordering::SeqCst) <= r
            && self.handle.as_ref().is_some_and(|h| !h.is_finished())
        {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Stops the keeper; returns the data frames it found on nbA (none expected).
    pub fn stop(mut self) -> u64 {
        self.halt()
    }

    fn halt(&mut self) -> u64 {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.take().and_then(|h| h.join().ok()).unwrap_or(0)
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Whether every member of both of bondd's bonds is distributing, and each member's LACP
/// state.
pub(super) fn bondd_state(app: &Appliance) -> (bool, Vec<String>) {
    let mut ok = !app.bonds().is_empty();
    let mut states = Vec::new();
    for b in app.bonds() {
        let Some(l) = &b.lacp else {
            ok = false;
            states.push(format!("{}: no LACP", b.name));
            continue;
        };
        for (m, port) in b.members.iter().zip(l.ports()) {
            let actor = port.actor().state.bits();
            ok &= port.is_distributing() && actor & UP == UP;
            states.push(format!(
                "{}/{}: actor {actor:#04x} partner {:#04x}",
                b.name,
                m.name,
                port.partner().state.bits()
            ));
        }
    }
    (ok, states)
}

/// Whether every member of a net_bonding port is up and distributing, and each member's LACP
/// state.
pub(super) fn net_bonding_state(name: &str, bond: u16, members: &[u16]) -> (bool, Vec<String>) {
    let mut active = [0u16; 32];
    // SAFETY: a bonding port; the array has room for `len` ids.
    let n = unsafe {
        dpdk_sys::rte_eth_bond_active_slaves_get(bond, active.as_mut_ptr(), active.len() as u16)
    };
    let mut ok = n >= 0 && n as usize == members.len();
    let mut states = vec![format!("{name}: {n} of {} members active", members.len())];
    for &m in members {
        let mut info = dpdk_sys::rte_eth_bond_8023ad_slave_info::default();
        // SAFETY: a bonding port and one of its members; valid out pointer.
        let rc = unsafe { dpdk_sys::rte_eth_bond_8023ad_slave_info(bond, m, &mut info) };
        ok &= rc == 0 && info.actor_state & UP == UP;
        states.push(if rc == 0 {
            format!(
                "{name}/port {m}: actor {:#04x} partner {:#04x}",
                info.actor_state, info.partner_state
            )
        } else {
            format!("{name}/port {m}: no 802.3ad state (DPDK error {rc})")
        });
    }
    (ok, states)
}
