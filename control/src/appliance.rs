//! The running appliance: EAL, pool, ports and workers brought up from a checked config, a
//! main loop that prints rates, and an orderly shutdown that proves no mbuf leaked.

use crate::bond::{Actions, Bond, Identity, MemberInit};
use crate::config::{Checked, Iface, LinkAction, MemoryMode};
use crate::error::{Error, Result};
use dataplane::burst::BURST;
use dataplane::counters::{DropReason, PortTotals, WorkerCounters, sum_port};
use dataplane::fwd::{self, BondPlan, Egress, Ingress, MemberRx, Path, Plan};
use dataplane::mempool::{DEFAULT_DATA_ROOM, PktPool};
use dataplane::port::{Port, PortConfig, PortStats};
use dataplane::rcu::Qsbr;
use dataplane::worker::Workers;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Free hugepage memory in MiB, from /proc/meminfo.
pub fn hugepages_free_mb() -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/meminfo") else {
        return 0;
    };
    let field = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field("HugePages_Free:") * field("Hugepagesize:") / 1024
}

fn looks_like_pci(dev: &str) -> bool {
    let d = dataplane::port::device_name(dev);
    let b = d.as_bytes();
    // dddd:bb:dd.f or bb:dd.f
    d.contains(':')
        && d.contains('.')
        && b.iter().all(|c| c.is_ascii_hexdigit() || b":.".contains(c))
}

/// The EAL arguments for a checked config: the user's `[eal] args` plus what they leave out
/// (main lcore on the control core, memory mode, a per-process file prefix, no PCI scan when
/// no port is a PCI device).
pub fn eal_args(c: &Checked, huge_free_mb: u64) -> Vec<String> {
    let user = &c.config.eal.args;
    let has = |names: &[&str]| {
        user.iter().any(|a| {
            names
                .iter()
                .any(|n| a == n || a.starts_with(&format!("{n}=")))
        })
    };
    let mut args = user.clone();
    if !has(&["-l", "--lcores", "-c", "--main-lcore"]) {
        args.push(format!("--lcores=0@{}", c.control_core));
    }
    if !has(&[
        "--no-huge",
        "--in-memory",
        "-m",
        "--socket-mem",
        "--huge-dir",
    ]) {
        let mb = c.config.eal.memory_mb;
        let huge = match c.config.eal.memory {
            MemoryMode::Hugepages => true,
            MemoryMode::NoHuge => false,
            MemoryMode::Auto => huge_free_mb >= u64::from(mb),
        };
        if huge {
            args.push("--in-memory".into());
        } else {
            args.extend([
                "--no-huge".into(),
                "-m".into(),
                mb.to_string(),
                "--no-shconf".into(),
            ]);
        }
    }
    if !has(&["--file-prefix"]) {
        args.push(format!("--file-prefix=bondd{}", std::process::id()));
    }
    if !has(&["--no-pci", "-a", "--allow", "-b", "--block"])
        && !c.ports.iter().any(|p| looks_like_pci(&p.device))
    {
        args.push("--no-pci".into());
    }
    if !has(&["--telemetry", "--no-telemetry"]) {
        args.push("--no-telemetry".into());
    }
    if !has(&["--log-level"]) {
        args.push("--log-level=*:notice".into());
    }
    args
}

/// How the control thread transmits on a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ControlTx {
    /// Not a bond member: the control thread never sends there.
    None,
    /// Its own TX queue.
    Queue(u16),
    /// Through worker 0 (the driver could not give it a queue).
    Relay,
}

/// One port's figures at one instant.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PortSample {
    pub name: String,
    pub nic: PortStats,
    pub worker: PortTotals,
}

/// One bond's figures at one instant.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BondSample {
    pub name: String,
    pub active: Option<String>,
    /// Frames the workers could not send because no member was usable.
    pub no_member_drops: u64,
    /// (member, frames sent by the workers on it, frames received on it).
    pub members: Vec<(String, u64, u64)>,
    pub link_failures: u32,
    pub events: usize,
}

/// The appliance's final account.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FinalReport {
    pub elapsed_s: f64,
    pub ports: Vec<PortSample>,
    pub bonds: Vec<BondSample>,
    pub mbufs_in_use_after_shutdown: u32,
    pub pool_size: u32,
}

/// A running appliance.
pub struct Appliance {
    pub(crate) checked: Checked,
    pub(crate) workers: Option<Workers>,
    pub(crate) counters: Vec<Arc<WorkerCounters>>,
    pub(crate) bonds: Vec<Bond>,
    pub(crate) plan: Option<Arc<Plan>>,
    pub(crate) ports: Vec<Port>,
    /// The rings of `bondd_ring_pair:` ports (freed after the ports are closed).
    ring_pairs: Vec<dataplane::ring::Ring>,
    /// How the control thread transmits on each port.
    pub(crate) ctrl_txq: Vec<ControlTx>,
    /// Control frames for worker 0 to send (ports with `ControlTx::Relay`).
    pub(crate) relay: Option<Arc<dataplane::ring::Ring>>,
    /// Slow-protocol frames from the workers (802.3ad), one ring per worker.
    pub(crate) to_control: Vec<Arc<dataplane::ring::Ring>>,
    /// Frames the control thread sent, and could not send.
    pub ctrl_sent: u64,
    pub ctrl_failed: u64,
    pool: Option<PktPool>,
    run_dir: Option<PathBuf>,
    pub(crate) started: Instant,
    /// Next MII tick of each bond (None: not monitored).
    pub(crate) next_mii: Vec<Option<Instant>>,
    /// State of `show port stats` (throughput since the last show).
    pub(crate) show: crate::shell::exec::ShowState,
    /// Scheduled link events, sorted, and how many have been carried out.
    events: Vec<(Instant, LinkAction, usize)>,
    next_event: usize,
}

impl Appliance {
    /// Brings everything up: EAL, every port probed (all before any is configured), the pool,
    /// ports configured and started, the bonds enslaved, then the workers.
    pub fn start(checked: Checked) -> Result<Appliance> {
        let args = eal_args(&checked, hugepages_free_mb());
        tracing::info!("EAL arguments: {}", args.join(" "));
        dataplane::eal::init(&args)?;
        tracing::info!("{}", dataplane::eal::version());
        for w in &checked.warnings {
            tracing::warn!("{w}");
        }
        let nworkers = checked.worker_cores.len() as u16;
        let port_err = |i: usize, error| Error::Port {
            port: checked.ports[i].name.clone(),
            device: checked.ports[i].device.clone(),
            error,
        };

        // Declared before the ports so that on an error path the ports (which may hold mbufs
        // of the pool, e.g. net_pcap's infinite_rx copies) are closed before the pool goes.
        let pool_slot: Option<PktPool>;
        // Probe every device first: an unknown device refuses the whole config before any
        // port is configured or started.
        // Declared before the ports, so that on an error path the ports go first.
        let mut ring_pairs = Vec::new();
        let mut ports = Vec::with_capacity(checked.ports.len());
        for (i, spec) in checked.ports.iter().enumerate() {
            let port = match RingPairEnd::parse(&spec.device) {
                Some(end) => end.open(nworkers, &mut ring_pairs),
                None => Port::probe(&spec.device),
            };
            ports.push(port.map_err(|e| port_err(i, e))?);
        }
        let mut qcfg = Vec::with_capacity(ports.len());
        let mut ctrl_txq = Vec::with_capacity(ports.len());
        for (i, (p, spec)) in ports.iter().zip(&checked.ports).enumerate() {
            let info = p.info().map_err(|e| port_err(i, e))?;
            // Bond members get one more TX queue, the control thread's own, so that LACPDUs
            // and gratuitous ARPs never contend with the workers for a queue. Where the driver
            // cannot have it (net_tap wants as many RX as TX queues; af_packet has qpairs),
            // the control thread hands its frames to worker 0 instead (see `configure` below).
            if info.max_tx_queues < nworkers {
                return Err(port_err(
                    i,
                    dataplane::Error::invalid(
                        "TX queues",
                        format!(
                            "{nworkers} workers need a TX queue each, driver {} offers {}",
                            info.driver, info.max_tx_queues
                        ),
                    ),
                ));
            }
            let want_ctrl = spec.bond.is_some() && info.max_tx_queues > nworkers;
            ctrl_txq.push(if want_ctrl {
                ControlTx::Queue(nworkers)
            } else if spec.bond.is_some() {
                ControlTx::Relay
            } else {
                ControlTx::None
            });
            qcfg.push(PortConfig {
                rx_queues: nworkers.min(info.max_rx_queues).max(1),
                tx_queues: nworkers + u16::from(want_ctrl),
                rx_desc: spec.rx_desc,
                tx_desc: spec.tx_desc,
            });
        }

        let needed: u32 = qcfg
            .iter()
            .map(|q| {
                u32::from(q.rx_desc) * u32::from(q.rx_queues)
                    + u32::from(q.tx_desc) * u32::from(q.tx_queues)
            })
            .sum::<u32>()
            + u32::from(nworkers) * (BURST as u32 * 4 + 256)
            + 8192;
        let cfg = &checked.config;
        let size = if cfg.run.mbufs > 0 {
            cfg.run.mbufs
        } else {
            needed.next_power_of_two() - 1
        };
        pool_slot = Some(PktPool::create(
            &format!("bondd_pool{}", std::process::id()),
            size,
            256,
            DEFAULT_DATA_ROOM,
            -1,
        )?);
        let pool = pool_slot.as_ref().expect("just created");
        tracing::info!("mbuf pool: {size} mbufs");

        let mut perm_macs = Vec::with_capacity(ports.len());
        for (i, (p, q)) in ports.iter_mut().zip(&qcfg).enumerate() {
            if let Err(e) = p.configure(q, pool) {
                if ctrl_txq[i] != ControlTx::Queue(nworkers) {
                    return Err(port_err(i, e));
                }
                // The driver refused the extra queue: relay control frames through worker 0.
                tracing::info!(
                    "port {}: no TX queue of its own for the control thread ({e}); \
                     control frames go through worker 0",
                    checked.ports[i].name
                );
                ctrl_txq[i] = ControlTx::Relay;
                let q = PortConfig {
                    tx_queues: nworkers,
                    ..*q
                };
                p.configure(&q, pool).map_err(|e| port_err(i, e))?;
            }
            perm_macs.push(p.mac().unwrap_or_default());
        }
        let relay = if ctrl_txq.contains(&ControlTx::Relay) {
            Some(Arc::new(dataplane::ring::Ring::create(
                &format!("bondd_relay{}", std::process::id()),
                1024,
                dataplane::ring::Sync::SingleProducerSingleConsumer,
            )?))
        } else {
            None
        };
        // Bond MACs: configured, or the first member's. With fail_over_mac=none every member
        // takes it; with follow only the active one will (set at failover).
        let bond_macs: Vec<[u8; 6]> = checked
            .bonds
            .iter()
            .map(|b| b.mac.unwrap_or(perm_macs[b.members[0]]))
            .collect();
        for (i, p) in ports.iter().enumerate() {
            let spec = &checked.ports[i];
            let mac = match spec.bond {
                Some(b)
                    if checked.bonds[b].options.fail_over_mac
                        == crate::options::FailOverMac::None =>
                {
                    Some(bond_macs[b])
                }
                Some(_) => None,
                None => spec.mac,
            };
            if let Some(m) = mac
                && let Err(e) = p.set_mac(m)
            {
                tracing::warn!(
                    "port {}: cannot set MAC {} ({e}); relying on promiscuous mode",
                    spec.name,
                    dataplane::wire::MacAddr(m)
                );
            }
            if (spec.promiscuous || spec.bond.is_some())
                && let Err(e) = p.set_promiscuous(true)
            {
                tracing::debug!("port {}: promiscuous mode: {e}", spec.name);
            }
        }
        for (i, p) in ports.iter_mut().enumerate() {
            p.start().map_err(|e| port_err(i, e))?;
            let spec = &checked.ports[i];
            tracing::info!(
                "port {} ({}): started, id {}, MAC {}, {} RX / {} TX queues{}",
                spec.name,
                spec.device,
                p.id(),
                p.mac()
                    .map(|m| dataplane::wire::MacAddr(m).to_string())
                    .unwrap_or_default(),
                p.rx_queues(),
                p.tx_queues(),
                spec.bond
                    .map(|b| format!(", member of {}", checked.bonds[b].name))
                    .unwrap_or_default()
            );
        }

        let qsbr = Arc::new(Qsbr::new(nworkers as usize));
        let bonds: Vec<Bond> = checked
            .bonds
            .iter()
            .enumerate()
            .map(|(b, spec)| {
                let members = spec
                    .members
                    .iter()
                    .map(|&i| MemberInit {
                        name: checked.ports[i].name.clone(),
                        port: ports[i].id(),
                        index: i as u16,
                        perm_mac: perm_macs[i],
                        link: ports[i].link(),
                    })
                    .collect();
                Bond::new(
                    &spec.name,
                    spec.options.clone(),
                    members,
                    Identity {
                        mac: bond_macs[b],
                        ipv4: spec.ipv4.clone(),
                        ipv6: spec.ipv6.clone(),
                    },
                    Arc::clone(&qsbr),
                )
            })
            .collect();

        let nports = ports.len();
        let (paths, bond_plans) = plan_parts(&checked, &ports, &bonds);
        // Slow-protocol frames (802.3ad) go from each worker to the control thread on a
        // ring of its own.
        let to_control = if bonds.iter().any(|b| b.lacp.is_some()) {
            slow_rings(nworkers)?
        } else {
            Vec::new()
        };
        let plan = Arc::new(Plan {
            to_control: to_control.clone(),
            mode: cfg.run.forward_mode,
            paths,
            bonds: bond_plans,
            tx_retries: cfg.run.tx_retries,
            qsbr,
            control_relay: relay.clone(),
            relay_index: nports + bonds.len(),
        });
        let counters: Vec<Arc<WorkerCounters>> = (0..nworkers)
            .map(|_| Arc::new(WorkerCounters::new(nports + bonds.len() + 1)))
            .collect();
        let workers = spawn_workers(&checked.worker_cores, &plan, &counters)?;
        tracing::info!(
            "forwarding ({} mode) on {} worker(s), cores {:?}; control on core {}",
            cfg.run.forward_mode,
            workers.len(),
            checked.worker_cores,
            checked.control_core
        );
        let run_dir = Some(cfg.run.run_dir.clone()).filter(|_| !bonds.is_empty());
        let started = Instant::now();
        let next_mii = bonds
            .iter()
            .map(|b| b.miimon().map(|m| started + m))
            .collect();
        let mut events: Vec<(Instant, LinkAction, usize)> = checked
            .events
            .iter()
            .map(|&(at, a, p)| (started + Duration::from_secs_f64(at), a, p))
            .collect();
        events.sort_by_key(|e| e.0);
        let mut app = Appliance {
            checked,
            workers: Some(workers),
            counters,
            bonds,
            plan: Some(plan),
            ports,
            ring_pairs,
            ctrl_txq,
            relay,
            to_control,
            ctrl_sent: 0,
            ctrl_failed: 0,
            pool: pool_slot,
            run_dir,
            started,
            next_mii,
            show: Default::default(),
            events,
            next_event: 0,
        };
        if let Some(dir) = app.run_dir.clone()
            && let Err(e) = std::fs::create_dir_all(&dir)
        {
            tracing::warn!("run directory {}: {e}; no status files", dir.display());
            app.run_dir = None;
        }
        for b in 0..app.bonds.len() {
            app.write_status(b);
        }
        Ok(app)
    }

    /// The checked config it runs.
    pub fn config(&self) -> &Checked {
        &self.checked
    }

    /// The bonds.
    pub fn bonds(&self) -> &[Bond] {
        &self.bonds
    }

    /// The workers' counters (for measurements that sample them from another thread).
    pub fn counters(&self) -> Vec<Arc<WorkerCounters>> {
        self.counters.clone()
    }

    /// When the appliance started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Current figures of every port.
    pub fn sample(&self) -> Vec<PortSample> {
        self.ports
            .iter()
            .enumerate()
            .map(|(i, p)| PortSample {
                name: self.checked.ports[i].name.clone(),
                nic: p.stats().unwrap_or_default(),
                worker: sum_port(&self.counters, i),
            })
            .collect()
    }

    /// Current figures of every bond.
    pub fn bond_samples(&self) -> Vec<BondSample> {
        let n = self.ports.len();
        self.bonds
            .iter()
            .enumerate()
            .map(|(b, bond)| BondSample {
                name: bond.name.clone(),
                active: bond.active.map(|a| bond.members[a].name.clone()),
                no_member_drops: sum_port(&self.counters, n + b).drops
                    [DropReason::NoMember as usize],
                members: bond
                    .members
                    .iter()
                    .map(|m| {
                        let t = sum_port(&self.counters, m.index as usize);
                        (m.name.clone(), t.tx, t.rx)
                    })
                    .collect(),
                link_failures: bond.members.iter().map(|m| m.mii.link_failure_count).sum(),
                events: bond.events.len(),
            })
            .collect()
    }

    /// Forces a port's link up or down (`set link-up|link-down port`).
    pub fn set_link(&self, port: usize, up: bool) -> Result<dataplane::port::LinkControl> {
        self.ports[port].set_link(up).map_err(|error| Error::Port {
            port: self.checked.ports[port].name.clone(),
            device: self.checked.ports[port].device.clone(),
            error,
        })
    }

    /// One MII tick of bond `b`.
    fn mii_tick(&mut self, b: usize, now: Instant) {
        let links: Vec<dataplane::port::Link> = self.bonds[b]
            .members
            .iter()
            .map(|m| dataplane::port::link_of(m.port))
            .collect();
        let actions = self.bonds[b].mii_tick(&links, now);
        self.carry_out(b, actions);
    }

    /// Does what a bond's control logic asked for.
    pub(crate) fn carry_out(&mut self, b: usize, actions: Actions) {
        for (o, mac) in &actions.macs {
            let i = self.bonds[b].members[*o].index as usize;
            if let Err(e) = self.ports[i].set_mac(*mac) {
                tracing::warn!("port {}: {e}", self.checked.ports[i].name);
            }
        }
        for (i, frame) in &actions.port_frames {
            if self.send_control(usize::from(*i), frame) {
                self.ctrl_sent += 1;
            } else {
                self.ctrl_failed += 1;
            }
        }
        for (o, frame) in &actions.frames {
            let i = self.bonds[b].members[*o].index as usize;
            if self.send_control(i, frame) {
                if crate::lacp::pdu::is_lacpdu(frame) {
                    self.bonds[b].note_lacpdu(*o, true);
                }
                self.ctrl_sent += 1;
            } else {
                self.ctrl_failed += 1;
            }
        }
        if actions.changed {
            self.write_status(b);
        }
    }

    /// Hands the slow-protocol frames the workers passed up to their bonds' LACP machines.
    fn drain_slow_frames(&mut self) {
        for w in 0..self.to_control.len() {
            // Checked first: this runs every loop iteration, and dequeue allocates.
            if self.to_control[w].count() == 0 {
                continue;
            }
            let frames = self.to_control[w].dequeue(256);
            for m in frames {
                let port = m.port();
                let found = self.bonds.iter().enumerate().find_map(|(b, bond)| {
                    bond.members
                        .iter()
                        .position(|x| x.port == port)
                        .map(|o| (b, o))
                });
                if let Some((b, o)) = found {
                    if crate::lacp::pdu::is_lacpdu(m.data()) {
                        self.bonds[b].note_lacpdu(o, false);
                    }
                    let actions = self.bonds[b].lacp_rx(o, m.data());
                    self.carry_out(b, actions);
                }
            }
        }
    }

    /// Sends one frame from the control thread on port `i`: on its own TX queue, or through
    /// worker 0 where the port has none for it.
    fn send_control(&self, i: usize, frame: &[u8]) -> bool {
        let Some(pool) = self.pool.as_ref() else {
            return false;
        };
        let Some(mut m) = dataplane::mbuf::Mbuf::from_bytes(pool, frame) else {
            return false;
        };
        match (self.ctrl_txq[i], &self.relay) {
            (ControlTx::Queue(q), _) => {
                let mut burst = dataplane::burst::Burst::new();
                if burst.push(m).is_err() {
                    return false;
                }
                burst.tx(self.ports[i].id(), q, 3).sent == 1
            }
            (ControlTx::Relay, Some(r)) => {
                m.set_port(self.ports[i].id());
                r.enqueue(m).is_ok()
            }
            _ => false,
        }
    }

    pub(crate) fn write_status(&self, b: usize) {
        let Some(dir) = &self.run_dir else { return };
        let bond = &self.bonds[b];
        let snap = bond.snapshot();
        let text =
            crate::status::render_proc(&snap, &format!("v{} (bondd)", env!("CARGO_PKG_VERSION")));
        let json = crate::status::render_json(&snap).unwrap_or_default();
        for (name, body) in [
            (bond.name.clone(), text),
            (format!("{}.json", bond.name), json),
        ] {
            if let Err(e) = write_atomic(&dir.join(&name), body.as_bytes()) {
                tracing::warn!("status file {}: {e}", dir.join(&name).display());
            }
        }
    }

    /// The control loop: runs until `stop` is raised or `duration` (if any) has passed. Ticks
    /// each bond's MII monitor, carries out scheduled link events (timed from the appliance's
    /// start, so the loop can be run in several stretches), reclaims old distributions and
    /// prints per-port rates to `out` every `period` (if any). It sleeps between deadlines:
    /// the control thread never busy-polls.
    pub fn run_until(
        &mut self,
        stop: &AtomicBool,
        duration: Option<Duration>,
        period: Option<Duration>,
        out: &mut dyn Write,
    ) {
        self.serve_until(stop, duration, period, out, None);
    }

    /// As [`run_until`](Self::run_until), also answering shell commands from `requests` (the
    /// prompt and the control socket). The loop waits on the channel instead of sleeping, so a
    /// command is answered at once; a `quit` command ends the loop.
    pub fn serve_until(
        &mut self,
        stop: &AtomicBool,
        duration: Option<Duration>,
        period: Option<Duration>,
        out: &mut dyn Write,
        requests: Option<&std::sync::mpsc::Receiver<crate::shell::server::Request>>,
    ) {
        let t0 = Instant::now();
        let mut last = (Instant::now(), self.sample());
        let mut next_print = period.map(|p| t0 + p);
        loop {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let now = Instant::now();
            if duration.is_some_and(|d| now >= t0 + d) {
                break;
            }
            while self.next_event < self.events.len() && now >= self.events[self.next_event].0 {
                let (_, action, p) = self.events[self.next_event];
                self.next_event += 1;
                let up = action == LinkAction::LinkUp;
                match self.set_link(p, up) {
                    Ok(how) => tracing::info!(
                        "scheduled event: link {} on port {}{}",
                        if up { "up" } else { "down" },
                        self.checked.ports[p].name,
                        if how == dataplane::port::LinkControl::Emulated {
                            " (emulated: the PMD cannot force its link)"
                        } else {
                            ""
                        }
                    ),
                    Err(e) => tracing::warn!("scheduled event: {e}"),
                }
            }
            self.drain_slow_frames();
            for b in 0..self.bonds.len() {
                if let Some(due) = self.bonds[b].lacp_deadline()
                    && now >= due
                {
                    let actions = self.bonds[b].lacp_tick();
                    self.carry_out(b, actions);
                }
                if self.bonds[b].counters_refresh_due(now) {
                    self.write_status(b);
                }
                if let Some(due) = self.next_mii[b]
                    && now >= due
                {
                    self.mii_tick(b, now);
                    let m = self.bonds[b].miimon().expect("monitored");
                    // Keep the cadence; if the thread was late, restart from now.
                    let next = due + m;
                    self.next_mii[b] = Some(if next > now { next } else { now + m });
                }
                self.bonds[b].dist.reclaim();
            }
            if let (Some(p), Some(np)) = (period, next_print)
                && now >= np
            {
                let cur = self.sample();
                let dt = now.duration_since(last.0).as_secs_f64().max(1e-9);
                let _ = print_rates(out, self.started.elapsed(), &last.1, &cur, dt);
                last = (now, cur);
                next_print = Some(np + p);
            }
            let mut wake = now + Duration::from_millis(10);
            for d in self.next_mii.iter().flatten().copied().chain(next_print) {
                wake = wake.min(d);
            }
            if let Some(e) = self.events.get(self.next_event) {
                wake = wake.min(e.0);
            }
            for b in &self.bonds {
                if let Some(d) = b.lacp_deadline() {
                    wake = wake.min(d);
                }
            }
            if !self.to_control.is_empty() {
                // Slow-protocol frames are picked up at least every millisecond.
                wake = wake.min(now + Duration::from_millis(1));
            }
            if let Some(d) = duration {
                wake = wake.min(t0 + d);
            }
            let now = Instant::now();
            if wake > now {
                match requests {
                    Some(rx) => match rx.recv_timeout(wake - now) {
                        Ok(req) => {
                            let reply = self.execute_line(&req.line);
                            let quit = reply.quit;
                            let _ = req.reply.send(reply);
                            if quit {
                                break;
                            }
                        }
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                            std::thread::sleep(wake - now)
                        }
                    },
                    None => std::thread::sleep(wake - now),
                }
            }
        }
    }

    /// Stops the workers, drains and closes every port, and checks that every mbuf came back.
    pub fn shutdown(mut self) -> Result<FinalReport> {
        let joined = self.workers.take().map(|w| w.stop_and_join());
        let elapsed = self.started.elapsed().as_secs_f64();
        let ports = self.sample();
        let bonds = self.bond_samples();
        for b in 0..self.bonds.len() {
            self.write_status(b);
        }
        self.plan = None;
        self.relay = None;
        self.to_control.clear();
        for p in &self.ports {
            p.drain_rx();
        }
        for (i, p) in self.ports.iter_mut().enumerate() {
            if let Err(e) = p.close() {
                tracing::warn!("port {}: {e}", self.checked.ports[i].name);
            }
        }
        self.ports.clear();
        // Frames still in a ring pair whose far end is not ours are freed with the rings.
        self.ring_pairs.clear();
        let pool = self.pool.take().expect("pool present until shutdown");
        let in_use = pool.in_use();
        let report = FinalReport {
            elapsed_s: elapsed,
            ports,
            bonds,
            mbufs_in_use_after_shutdown: in_use,
            pool_size: pool.size(),
        };
        if let Some(Err(e)) = joined {
            return Err(e.into());
        }
        if in_use != 0 {
            let name = pool.name().to_owned();
            drop(pool);
            return Err(Error::Leak { pool: name, in_use });
        }
        drop(pool);
        Ok(report)
    }
}

impl Drop for Appliance {
    fn drop(&mut self) {
        if let Some(w) = self.workers.take() {
            let _ = w.stop_and_join();
        }
    }
}

/// One end of an in-process link between two ports: `bondd_ring_pair:<pair>:<0|1>`.
///
/// What end 0 transmits, end 1 receives and the other way round, through DPDK rings
/// (`rte_eth_from_rings`), so that two bonds of one appliance can face each other with no
/// kernel in between (benchmarks; net_ring cannot do this: each of its queues is one ring
/// that the port both sends to and receives from). Every TX queue of an end (one per worker
/// and the control thread's) feeds the far end's RX queue of the same number, the control
/// thread's into queue 0, so the far end's workers see it all. Each end's MAC is
/// 02:b0:nn:nn:nn:0s (from the pair name's hash and the side).
struct RingPairEnd<'a> {
    pair: &'a str,
    side: u8,
}

impl<'a> RingPairEnd<'a> {
    const PREFIX: &'static str = "bondd_ring_pair:";

    fn parse(device: &'a str) -> Option<Self> {
        let rest = device.strip_prefix(Self::PREFIX)?;
        let (pair, side) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let side = match side {
            "0" => 0,
            "1" => 1,
            _ => 2, // refused by open(), with the reason
        };
        Some(RingPairEnd { pair, side })
    }

    fn open(
        &self,
        nworkers: u16,
        rings: &mut Vec<dataplane::ring::Ring>,
    ) -> dataplane::Result<Port> {
        use dataplane::ring::{Ring, Sync};
        let bad = |why: &str| {
            dataplane::Error::invalid(
                format!("device {}{}:{}", Self::PREFIX, self.pair, self.side),
                why.to_owned(),
            )
        };
        if self.side > 1 {
            return Err(bad("expected bondd_ring_pair:<pair>:<0|1>"));
        }
        // DPDK ring names have at most 31 characters: "bdrp_<pair>_<from><q>".
        if self.pair.is_empty()
            || self.pair.len() > 16
            || !self.pair.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(bad("the pair name must be 1 to 16 letters or digits"));
        }
        let ring = |from: u8, q: u16, rings: &mut Vec<Ring>| -> dataplane::Result<Ring> {
            let name = format!("bdrp_{}_{from}{q}", self.pair);
            match Ring::lookup(&name) {
                Ok(r) => Ok(r),
                Err(_) => {
                    // Several producers: a worker and the control thread share queue 0's ring.
                    // One consumer: the far end's RX queue of that number, which one worker
                    // polls.
                    rings.push(Ring::create(
                        &name,
                        4096,
                        Sync::MultiProducerSingleConsumer,
                    )?);
                    Ring::lookup(&name)
                }
            }
        };
        let (me, peer) = (self.side, 1 - self.side);
        let mut rx = Vec::new();
        let mut tx = Vec::new();
        for q in 0..nworkers.max(1) {
            rx.push(ring(peer, q, rings)?);
            tx.push(ring(me, q, rings)?);
        }
        tx.push(ring(me, 0, rings)?);
        let rxr: Vec<&Ring> = rx.iter().collect();
        let txr: Vec<&Ring> = tx.iter().collect();
        let port = Port::from_rings(&format!("bdrp_{}_{me}", self.pair), &rxr, &txr)?;
        let h = self
            .pair
            .bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
            .to_be_bytes();
        if let Err(e) = port.set_mac([0x02, 0xb0, h[1], h[2], h[3], me]) {
            tracing::debug!("ring pair {}: MAC: {e}", self.pair);
        }
        Ok(port)
    }
}

/// Starts one worker per core, all running `plan`.
pub(crate) fn spawn_workers(
    cores: &[usize],
    plan: &Arc<Plan>,
    counters: &[Arc<WorkerCounters>],
) -> Result<Workers> {
    let per_worker = counters.to_vec();
    let plan = Arc::clone(plan);
    Ok(Workers::spawn(cores, move |ctx| {
        // Each worker reads the plan on every burst: a copy made on its own thread lies in
        // that thread's allocator arena, away from whatever the control thread writes.
        let own = Plan::clone(&plan);
        fwd::run(&ctx, &own, &per_worker[ctx.index]);
    })?)
}

/// Writes a file so that readers see the old or the new content, never a mix.
pub fn write_atomic(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)
}

fn print_rates(
    out: &mut dyn Write,
    t: Duration,
    prev: &[PortSample],
    cur: &[PortSample],
    dt: f64,
) -> std::io::Result<()> {
    writeln!(
        out,
        "  ---- t={:>7.2}s ------------------------------------------------------------------",
        t.as_secs_f64()
    )?;
    writeln!(
        out,
        "  {:<12} {:>13} {:>13} {:>16} {:>16} {:>10} {:>10}",
        "port", "Rx-pps", "Tx-pps", "RX-packets", "TX-packets", "RX-missed", "dropped"
    )?;
    for (p, c) in prev.iter().zip(cur) {
        let rx = (c.nic.rx_packets.saturating_sub(p.nic.rx_packets)) as f64 / dt;
        let tx = (c.nic.tx_packets.saturating_sub(p.nic.tx_packets)) as f64 / dt;
        writeln!(
            out,
            "  {:<12} {:>13.0} {:>13.0} {:>16} {:>16} {:>10} {:>10}",
            c.name,
            rx,
            tx,
            c.nic.rx_packets,
            c.nic.tx_packets,
            c.nic.rx_missed,
            c.worker.dropped()
        )?;
    }
    out.flush()
}

/// Prints the final counters, as testpmd does when it stops.
pub fn print_final(out: &mut dyn Write, r: &FinalReport) -> std::io::Result<()> {
    writeln!(
        out,
        "  ======================== final counters ({:.2} s) ========================",
        r.elapsed_s
    )?;
    for p in &r.ports {
        writeln!(out, "  port {}:", p.name)?;
        writeln!(
            out,
            "    RX-packets: {:<14} RX-missed: {:<10} RX-bytes: {}",
            p.nic.rx_packets, p.nic.rx_missed, p.nic.rx_bytes
        )?;
        writeln!(
            out,
            "    TX-packets: {:<14} TX-errors: {:<10} TX-bytes: {}",
            p.nic.tx_packets, p.nic.tx_errors, p.nic.tx_bytes
        )?;
        let drops: Vec<String> = DropReason::ALL
            .iter()
            .filter(|&&d| p.worker.drops[d as usize] > 0)
            .map(|&d| format!("{} {}", d.name(), p.worker.drops[d as usize]))
            .collect();
        writeln!(
            out,
            "    workers: rx {} tx {}; dropped {}{}",
            p.worker.rx,
            p.worker.tx,
            p.worker.dropped(),
            if drops.is_empty() {
                String::new()
            } else {
                format!(" ({})", drops.join(", "))
            }
        )?;
    }
    for b in &r.bonds {
        writeln!(
            out,
            "  bond {}: active {}, link failures {}, {} events, dropped for want of a member {}",
            b.name,
            b.active.as_deref().unwrap_or("none"),
            b.link_failures,
            b.events,
            b.no_member_drops
        )?;
        for (m, tx, rx) in &b.members {
            writeln!(out, "    member {m}: tx {tx} rx {rx}")?;
        }
    }
    writeln!(
        out,
        "  mbufs in use after shutdown: {} of {}",
        r.mbufs_in_use_after_shutdown, r.pool_size
    )?;
    out.flush()
}

/// One ring per worker on which it hands slow-protocol frames (802.3ad) to the control
/// thread.
pub(crate) fn slow_rings(nworkers: u16) -> dataplane::Result<Vec<Arc<dataplane::ring::Ring>>> {
    (0..nworkers)
        .map(|w| {
            dataplane::ring::Ring::create(
                &format!("bondd_slow{}_{w}", std::process::id()),
                1024,
                dataplane::ring::Sync::SingleProducerSingleConsumer,
            )
            .map(Arc::new)
        })
        .collect()
}

/// The workers' paths and bonds for the appliance as it is now: the configured (or
/// shell-added) paths, plus a path that only listens for every 802.3ad bond nothing forwards
/// from (it must hear its partner anyway).
pub(crate) fn plan_parts(
    checked: &Checked,
    ports: &[Port],
    bonds: &[Bond],
) -> (Vec<Path>, Vec<BondPlan>) {
    let nports = ports.len();
    let egress = |i: Iface| match i {
        Iface::Port(p) => Egress::Port {
            port: ports[p].id(),
            index: p,
            mac: ports[p].mac().unwrap_or_default(),
        },
        Iface::Bond(b) => Egress::Bond {
            bond: b,
            mac: bonds[b].ident.mac,
        },
    };
    let mut paths: Vec<Path> = checked
        .paths
        .iter()
        .map(|&(a, b)| Path {
            from: match a {
                Iface::Port(p) => Ingress::Port {
                    port: ports[p].id(),
                    index: p,
                    rxq: ports[p].rx_queues(),
                },
                Iface::Bond(b) => Ingress::Bond { bond: b },
            },
            to: egress(b),
        })
        .collect();
    for (b, bond) in bonds.iter().enumerate() {
        let is_ingress = checked.paths.iter().any(|&(x, _)| x == Iface::Bond(b));
        if bond.lacp.is_some() && !is_ingress {
            paths.push(Path {
                from: Ingress::Bond { bond: b },
                to: Egress::Drop,
            });
        }
    }
    let bond_plans = bonds
        .iter()
        .enumerate()
        .map(|(b, bond)| BondPlan {
            name: bond.name.clone(),
            index: nports + b,
            members: bond
                .members
                .iter()
                .enumerate()
                .map(|(o, m)| MemberRx {
                    port: m.port,
                    index: m.index as usize,
                    rxq: ports[m.index as usize].rx_queues(),
                    ordinal: o as u8,
                })
                .collect(),
            dist: Arc::clone(&bond.dist),
        })
        .collect();
    (paths, bond_plans)
}
