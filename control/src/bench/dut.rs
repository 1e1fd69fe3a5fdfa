//! The devices under test, each set up in-process over identical members:
//!
//! - `bondd`: the appliance, forwarding a `net_ring` source port into a bond of `net_ring`
//!   members;
//! - `net_bonding`: the same appliance forwarding the same source into DPDK's bonding PMD
//!   (a plain port to the appliance) over `net_ring` members of its own;
//! - `none`: the appliance forwarding the source straight to one `net_ring` port, the upper
//!   bound.
//!
//! - `external`: whatever sits between two ports of this process and is not in it (another
//!   process or another box, e.g. a bondd appliance): the generator transmits on one port
//!   (`--tx-device`, e.g. `net_af_packet` on a veth) and the receiver reads one or more
//!   (`--rx-device`, one per link the frames may come back on, reported like members).
//!
//! In 802.3ad (mode 4) a bond needs a partner, so `bondd` and `net_bonding` are built as two
//! bonds facing each other instead (see [`super::facing`]); `none` stays as above.
//!
//! All three run the same worker loop on the same cores, so what differs is the bond. The
//! generator feeds the source port's RX rings and the receiver drains the members' TX rings
//! (a `net_ring` vdev shares one ring per queue between RX and TX, named
//! `ETH_RXTX<q>_<device>`; nothing polls the members' RX, so nothing else takes from them).

use super::engine::{Cut, End, MemberRx};
use super::facing::{self, Crossed, Keeper};
use super::trial::MemberCounts;
use crate::appliance::Appliance;
use crate::config::{Checked, Config};
use dataplane::mempool::PktPool;
use dataplane::port::{Port, PortConfig};
use dataplane::ring::Ring;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Which device is under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dut {
    Bondd,
    NetBonding,
    None,
    External,
}

impl std::str::FromStr for Dut {
    type Err = String;
    fn from_str(s: &str) -> Result<Dut, String> {
        match s {
            "bondd" => Ok(Dut::Bondd),
            "net_bonding" | "net-bonding" | "netbonding" => Ok(Dut::NetBonding),
            "none" | "plain" => Ok(Dut::None),
            "external" => Ok(Dut::External),
            _ => Err(format!(
                "unknown device under test {s:?} (known: bondd, net_bonding, none, external)"
            )),
        }
    }
}

impl std::fmt::Display for Dut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Dut::Bondd => "bondd",
            Dut::NetBonding => "net_bonding",
            Dut::None => "none",
            Dut::External => "external",
        })
    }
}

/// What the members are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sink {
    /// `net_ring` members the receiver drains: loss, reordering, latency and shares per frame.
    Ring,
    /// `net_null` members counted by their port statistics: throughput, loss and shares only.
    /// net_bonding needs it: it sets its members' MAC address at start, which DPDK 22.11's
    /// ring PMD cannot do.
    Null,
}

impl std::str::FromStr for Sink {
    type Err = String;
    fn from_str(s: &str) -> Result<Sink, String> {
        match s {
            "ring" => Ok(Sink::Ring),
            "null" => Ok(Sink::Null),
            _ => Err(format!("--sink {s:?}: ring or null")),
        }
    }
}

/// Where the frames come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The harness's generator, through a `net_ring` port: any rate, every frame stamped.
    Generator,
    /// A `net_pcap` port replaying one frame per flow in a loop (`infinite_rx`, the file at
    /// [`replay_file`] of the run directory), into `net_null` sinks: the device's worker reads
    /// the source and feeds the sinks itself, with no other core in the path, so the worker's
    /// own cost per frame decides the throughput (as in `benches/bond_vs_netbonding.sh`).
    /// As fast as the worker goes; frames are counted by port statistics.
    Replay,
}

impl std::str::FromStr for Source {
    type Err = String;
    fn from_str(s: &str) -> Result<Source, String> {
        match s {
            "generator" => Ok(Source::Generator),
            "replay" => Ok(Source::Replay),
            _ => Err(format!("--source {s:?}: generator or replay")),
        }
    }
}

/// The pcap file a [`Source::Replay`] source replays, in the run directory.
pub fn replay_file(run_dir: &std::path::Path) -> std::path::PathBuf {
    run_dir.join("replay.pcap")
}

/// The bond every DUT is built with.
#[derive(Debug, Clone)]
pub struct BondSetup {
    /// Linux mode number 0..=4.
    pub mode: u8,
    /// Linux xmit_hash_policy name (balance-xor, 802.3ad).
    pub policy: String,
    pub miimon: u32,
    pub members: usize,
    /// More Linux options for bondd (`BONDING_OPTS` form), e.g. "updelay=20".
    pub extra: String,
    pub sink: Sink,
    pub source: Source,
}

impl BondSetup {
    /// Member names, as bondd's status and the report call them.
    pub fn member_names(&self) -> Vec<String> {
        (0..self.members).map(|i| format!("eth{i}")).collect()
    }

    /// net_bonding's devargs for the same bond, or why there is no equivalent.
    fn net_bonding_args(&self) -> Result<String, String> {
        let mut a = format!("mode={}", self.mode);
        if self.hashes() {
            let p = match self.policy.as_str() {
                "layer2" => "l2",
                "layer2+3" => "l23",
                "layer3+4" => "l34",
                other => {
                    return Err(format!(
                        "net_bonding has no transmit hash policy {other:?} (it has layer2, \
                         layer2+3 and layer3+4)"
                    ));
                }
            };
            a += &format!(",xmit_policy={p}");
        }
        // Its member link polling plays the part of miimon; 22.11 refuses it as a device
        // argument, so it is set through the API once the device exists (`Rig::start`).
        Ok(a)
    }

    /// Whether the mode transmits by the hash policy (balance-xor, 802.3ad).
    pub fn hashes(&self) -> bool {
        self.mode == 2 || self.mode == 4
    }

    /// 802.3ad: bonds are measured as two facing each other, read behind the far one.
    pub fn facing(&self) -> bool {
        self.mode == 4
    }

    /// Checks what every DUT can be built with.
    pub fn validate(&self, duts: &[Dut]) -> Result<(), String> {
        if self.mode > 4 {
            return Err(format!(
                "--mode {}: the in-process harness measures modes 0-4",
                self.mode
            ));
        }
        if !(1..=8).contains(&self.members) {
            return Err(format!("--members {}: 1 to 8", self.members));
        }
        if self.source == Source::Replay {
            if let Some(d) = duts
                .iter()
                .find(|d| !matches!(d, Dut::Bondd | Dut::NetBonding | Dut::None))
            {
                return Err(format!(
                    "--source replay: the replay runs inside the harness's own appliance, so \
                     --dut {d} cannot be measured with it"
                ));
            }
            // The sink is always net_null ports counted by their statistics: the members, or
            // in 802.3ad the port behind the facing bond; --sink does not apply.
            if duts.contains(&Dut::NetBonding) {
                self.net_bonding_args()?;
            }
            return Ok(());
        }
        if self.facing() && self.sink == Sink::Null {
            return Err(
                "--sink null: in 802.3ad every device's frames are read back one by \
                        one behind the facing bond (--sink ring)"
                    .into(),
            );
        }
        if duts.contains(&Dut::NetBonding) {
            self.net_bonding_args()?;
            if self.sink == Sink::Ring && !self.facing() {
                return Err(
                    "--sink ring: net_bonding cannot have net_ring members (it sets its \
                            members' MAC address at start, which DPDK 22.11's ring PMD refuses); \
                            use --sink null"
                        .into(),
                );
            }
        }
        Ok(())
    }
}

/// The ports towards an external device under test (DPDK device strings).
#[derive(Debug, Clone, Default)]
pub struct External {
    /// Where the generator transmits.
    pub tx: String,
    /// Where the frames come back, one port per link (the same port as `tx` is allowed).
    pub rx: Vec<String>,
}

impl External {
    /// Checks the ports against the devices under test.
    pub fn validate(&self, duts: &[Dut]) -> Result<(), String> {
        let wanted = duts.contains(&Dut::External);
        match (wanted, self.tx.is_empty(), self.rx.is_empty()) {
            (true, false, false) => {}
            (true, _, _) => {
                return Err("--dut external needs --tx-device and at least one \
                            --rx-device (DPDK device strings, e.g. \
                            net_af_packet0,iface=veth0)"
                    .into());
            }
            (false, true, true) => {}
            (false, _, _) => {
                return Err("--tx-device and --rx-device are for --dut external".into());
            }
        }
        if self.rx.len() > 8 {
            return Err(format!("--rx-device given {} times: 1 to 8", self.rx.len()));
        }
        for (i, d) in self.rx.iter().enumerate() {
            if self.rx[..i].contains(d) {
                return Err(format!("--rx-device {d:?} given twice"));
            }
        }
        Ok(())
    }

    /// Report names of the receive ports: the device name, without its arguments.
    pub fn rx_names(&self) -> Vec<String> {
        self.rx
            .iter()
            .map(|d| dataplane::port::device_name(d).to_owned())
            .collect()
    }
}

/// Cores and memory for every DUT.
#[derive(Debug, Clone)]
pub struct Placement {
    pub control_core: usize,
    pub workers: Vec<usize>,
    /// "auto", "hugepages" or "no-huge".
    pub memory: String,
}

/// Where a replay's frames are counted, by port statistics.
#[derive(Debug, Clone)]
pub struct Counted {
    /// The source port: what it received is what the device was handed.
    pub src: u16,
    /// Where the device's frames end: the members' net_null ports, or in 802.3ad the one
    /// behind the facing bond.
    pub out: Vec<u16>,
}

/// A device under test, running. (Fields drop in this order: the keeper before the
/// appliance, the appliance before net_bonding's members and their rings.)
pub struct Rig {
    /// net_bonding in 802.3ad: bursts where the worker does not.
    keeper: Option<Keeper>,
    pub dut: Dut,
    /// The appliance forwarding to the device (none for an external device).
    pub app: Option<Appliance>,
    /// Where the generator hands frames.
    pub tx: Vec<End>,
    /// Per member: where its frames arrive, and its cut switch.
    pub members: Vec<MemberRx>,
    /// Per member: the DPDK port whose link a fault takes down.
    pub member_ports: Vec<u16>,
    pub member_names: Vec<String>,
    /// Member shares from counters, where the receiver reads frames behind the bond.
    pub member_counts: Option<MemberCounts>,
    /// A replay's counting points (None with the generator).
    pub counted: Option<Counted>,
    /// net_bonding's members, closed after the appliance.
    own_ports: Vec<Port>,
    /// Their rings (802.3ad), freed after the ports with whatever frames they still hold.
    own_rings: Vec<dataplane::ring::Ring>,
    /// External device: the pool its receive ports fill, dropped after them.
    own_pool: Option<PktPool>,
}

static RIGS: AtomicUsize = AtomicUsize::new(0);

/// The config text of a DUT. `k` makes device names unique in the process (ring names are
/// capped at 31 characters, so they stay short).
fn config_text(
    dut: Dut,
    bond: &BondSetup,
    place: &Placement,
    k: usize,
    run_dir: &std::path::Path,
) -> Result<(String, Vec<String>), String> {
    // An external device runs in no appliance of ours; this config only sets up EAL.
    let dut = if dut == Dut::External { Dut::None } else { dut };
    if bond.facing() && dut != Dut::None {
        let nb_args = if dut == Dut::NetBonding {
            bond.net_bonding_args()?
        } else {
            String::new()
        };
        return Ok(facing::config_text(
            dut == Dut::NetBonding,
            bond,
            &nb_args,
            place,
            k,
            run_dir,
        ));
    }
    let p = std::process::id() % 10_000;
    let src = source_device(bond.source, p, k, run_dir);
    let mut t = format!(
        "[eal]\nmemory = \"{}\"\n[cores]\ncontrol = {}\nworkers = {:?}\n\
         [[port]]\nname = \"src\"\ndevice = \"{src}\"\n",
        place.memory, place.control_core, place.workers
    );
    let members: Vec<String> = (0..bond.members)
        .map(|i| match (bond.source, bond.sink) {
            (Source::Generator, Sink::Ring) => format!("net_ringB{p}_{k}m{i}"),
            _ => format!("net_nullB{p}_{k}m{i},no-rx=1"),
        })
        .collect();
    let to = match dut {
        Dut::Bondd => {
            t += &format!(
                "[[bond]]\nname = \"bond0\"\nmac = \"02:00:00:00:bb:01\"\noptions = \"mode={} miimon={}{}{}\"\n",
                bond.mode,
                bond.miimon,
                if bond.mode == 2 {
                    format!(" xmit_hash_policy={}", bond.policy)
                } else {
                    String::new()
                },
                if bond.extra.is_empty() {
                    String::new()
                } else {
                    format!(" {}", bond.extra)
                }
            );
            for (i, m) in members.iter().enumerate() {
                t += &format!("[[bond.member]]\nname = \"eth{i}\"\ndevice = \"{m}\"\n");
            }
            "bond0"
        }
        Dut::None | Dut::External => {
            t += &format!("[[port]]\nname = \"eth0\"\ndevice = \"{}\"\n", members[0]);
            "eth0"
        }
        Dut::NetBonding => {
            let slaves: String = (0..bond.members)
                .map(|i| format!(",slave=net_nullB{p}_{k}n{i}"))
                .collect();
            t += &format!(
                "[[port]]\nname = \"bond0\"\ndevice = \"net_bonding_B{p}_{k},{}{slaves}\"\n",
                bond.net_bonding_args()?
            );
            "bond0"
        }
    };
    t += &format!(
        "[[forward]]\nfrom = \"src\"\nto = \"{to}\"\nbidirectional = false\n\
         [run]\nstats_period_ms = 0\nforward_mode = \"io\"\nrun_dir = \"{}\"\n",
        run_dir.display()
    );
    Ok((t, vec![src].into_iter().chain(members).collect()))
}

/// The device string of a DUT's source port (`p` and `k` make it unique in the host and
/// the process).
pub(super) fn source_device(source: Source, p: u32, k: usize, run_dir: &std::path::Path) -> String {
    match source {
        Source::Generator => format!("net_ringB{p}_{k}s"),
        Source::Replay => format!(
            "net_pcapB{p}_{k}s,rx_pcap={},infinite_rx=1",
            replay_file(run_dir).display()
        ),
    }
}

/// The checked config of a DUT (also what EAL is initialised from).
pub fn checked(
    dut: Dut,
    bond: &BondSetup,
    place: &Placement,
    run_dir: &std::path::Path,
) -> anyhow::Result<(Checked, usize, Vec<String>)> {
    let k = RIGS.fetch_add(1, Ordering::Relaxed);
    let (text, devices) =
        config_text(dut, bond, place, k, run_dir).map_err(|e| anyhow::anyhow!(e))?;
    let checked = Config::parse(&text, std::path::Path::new("<bench>"))?
        .check(&dataplane::worker::usable_cores())?;
    Ok((checked, k, devices))
}

/// The DPDK port id of the appliance's port `name`.
fn port_id(app: &Appliance, name: &str) -> u16 {
    let i = app
        .config()
        .ports
        .iter()
        .position(|e| e.name == name)
        .unwrap_or_else(|| panic!("{name} is a configured port"));
    app.ports[i].id()
}

fn lookup_queues(device: &str, queues: usize) -> Vec<End> {
    (0..queues)
        .filter_map(|q| Ring::lookup(&format!("ETH_RXTX{q}_{device}")).ok())
        .map(|r| End::Ring(Arc::new(r)))
        .collect()
}

impl Rig {
    /// Starts a DUT. EAL must be up (the harness initialises it from the first DUT's config).
    pub fn start(
        dut: Dut,
        bond: &BondSetup,
        external: &External,
        place: &Placement,
        run_dir: &std::path::Path,
    ) -> anyhow::Result<Rig> {
        if dut == Dut::External {
            return Rig::start_external(external);
        }
        if bond.facing() && dut != Dut::None {
            return Rig::start_facing(dut, bond, place, run_dir);
        }
        let (checked, k, devices) = checked(dut, bond, place, run_dir)?;
        let workers = place.workers.len();
        let p = std::process::id() % 10_000;
        // net_bonding's members must exist before the appliance probes the bonding device.
        let mut own_ports = Vec::new();
        let mut nb_members = Vec::new();
        if dut == Dut::NetBonding {
            for i in 0..bond.members {
                let port = Port::probe(&format!("net_nullB{p}_{k}n{i},no-rx=1"))?;
                nb_members.push(port.id());
                own_ports.push(port);
            }
        }
        let app = Appliance::start(checked)?;
        if dut == Dut::NetBonding {
            let id = app.ports[app
                .config()
                .ports
                .iter()
                .position(|e| e.name == "bond0")
                .expect("bond0")]
            .id();
            // SAFETY: a bonding port; plain setter.
            let rc = unsafe { dpdk_sys::rte_eth_bond_link_monitoring_set(id, bond.miimon.max(1)) };
            anyhow::ensure!(
                rc == 0,
                "net_bonding: setting its link polling period: DPDK error {rc}"
            );
        }
        let replay = bond.source == Source::Replay;
        let tx = if replay {
            Vec::new()
        } else {
            lookup_queues(&devices[0], workers)
        };
        anyhow::ensure!(
            replay || !tx.is_empty(),
            "no RX ring found for the source port {}",
            devices[0]
        );
        let (members, member_ports): (Vec<MemberRx>, Vec<u16>) = match dut {
            Dut::NetBonding => nb_members
                .iter()
                .map(|&id| {
                    (
                        MemberRx {
                            ends: vec![],
                            cut: Arc::new(Cut::default()),
                        },
                        id,
                    )
                })
                .unzip(),
            Dut::External => unreachable!("started by start_external"),
            Dut::Bondd | Dut::None => {
                let n = if dut == Dut::None { 1 } else { bond.members };
                let cfg = app.config();
                devices[1..=n]
                    .iter()
                    .map(|d| {
                        let port = cfg
                            .ports
                            .iter()
                            .position(|e| &e.device == d)
                            .map(|i| app.ports[i].id())
                            .expect("every member is a configured port");
                        (
                            MemberRx {
                                // Worker queues, then the control thread's own.
                                ends: if bond.sink == Sink::Ring && !replay {
                                    lookup_queues(d, workers + 1)
                                } else {
                                    vec![]
                                },
                                cut: Arc::new(Cut::default()),
                            },
                            port,
                        )
                    })
                    .unzip()
            }
        };
        let member_names = match dut {
            Dut::None => vec!["eth0".to_owned()],
            _ => bond.member_names(),
        };
        let counted = replay.then(|| Counted {
            src: port_id(&app, "src"),
            out: member_ports.clone(),
        });
        Ok(Rig {
            dut,
            app: Some(app),
            tx,
            members,
            member_ports,
            member_names,
            member_counts: None,
            counted,
            keeper: None,
            own_ports,
            own_rings: Vec::new(),
            own_pool: None,
        })
    }

    /// An external device: the ports towards it, probed, configured with one queue each way
    /// and started; no appliance of ours forwards anything.
    fn start_external(ext: &External) -> anyhow::Result<Rig> {
        let k = RIGS.fetch_add(1, Ordering::Relaxed);
        let pool = PktPool::create(
            &format!("bbx{}_{k}", std::process::id() % 100_000),
            8191,
            256,
            dataplane::mempool::DEFAULT_DATA_ROOM,
            -1,
        )?;
        let cfg = PortConfig {
            rx_queues: 1,
            tx_queues: 1,
            rx_desc: 1024,
            tx_desc: 1024,
        };
        let mut own_ports: Vec<Port> = Vec::new();
        let mut id_of = |dev: &str| -> anyhow::Result<u16> {
            if let Some(p) = own_ports.iter().find(|p| p.device() == dev) {
                return Ok(p.id());
            }
            let mut p =
                Port::probe(dev).map_err(|e| anyhow::anyhow!("external device {dev:?}: {e}"))?;
            p.configure(&cfg, &pool)
                .and_then(|()| p.start())
                .map_err(|e| anyhow::anyhow!("external device {dev:?}: {e}"))?;
            // Frames come back addressed to whatever the device under test sends them to.
            let _ = p.set_promiscuous(true);
            let id = p.id();
            own_ports.push(p);
            Ok(id)
        };
        let tx = id_of(&ext.tx)?;
        let rx = ext
            .rx
            .iter()
            .map(|d| id_of(d))
            .collect::<anyhow::Result<Vec<u16>>>()?;
        // Whatever arrived before the run (the kernel's own frames on a fresh veth) is not
        // the generator's.
        for p in &own_ports {
            p.drain_rx();
        }
        let members = rx
            .iter()
            .map(|&id| MemberRx {
                ends: vec![End::Port { id, queue: 0 }],
                cut: Arc::new(Cut::default()),
            })
            .collect();
        Ok(Rig {
            dut: Dut::External,
            app: None,
            tx: vec![End::Port { id: tx, queue: 0 }],
            members,
            member_ports: rx,
            member_names: ext.rx_names(),
            member_counts: None,
            counted: None,
            keeper: None,
            own_ports,
            own_rings: Vec::new(),
            own_pool: Some(pool),
        })
    }

    /// 802.3ad: two bonds facing each other (see [`super::facing`]), both distributing on
    /// every member before this returns.
    fn start_facing(
        dut: Dut,
        bond: &BondSetup,
        place: &Placement,
        run_dir: &std::path::Path,
    ) -> anyhow::Result<Rig> {
        let (checked, k, devices) = checked(dut, bond, place, run_dir)?;
        let workers = place.workers.len();
        // net_bonding's members must exist before the appliance probes the bonding devices.
        let crossed = if dut == Dut::NetBonding {
            Some(Crossed::new(k, bond.members, workers)?)
        } else {
            None
        };
        let app = Appliance::start(checked)?;
        let port_of = |app: &Appliance, name: &str| {
            app.config()
                .ports
                .iter()
                .position(|e| e.name == name)
                .unwrap_or_else(|| panic!("{name} is a configured port"))
        };
        let names = bond.member_names();
        let (member_ports, member_counts, own_ports, own_rings): (Vec<u16>, MemberCounts, _, _) =
            match crossed {
                None => {
                    // bondA's members: what the workers sent on each.
                    let index: Vec<usize> = names.iter().map(|n| port_of(&app, n)).collect();
                    let ids = index.iter().map(|&i| app.ports[i].id()).collect();
                    let counters = app.counters();
                    let counts = move || {
                        index
                            .iter()
                            .map(|&i| dataplane::counters::sum_port(&counters, i).tx)
                            .collect()
                    };
                    (ids, Arc::new(counts), Vec::new(), Vec::new())
                }
                Some(Crossed {
                    ports,
                    rings,
                    a_ids,
                    ..
                }) => {
                    // nbA's members' TX statistics (which also count net_bonding's LACPDUs:
                    // one per member every 30 s once settled).
                    let ids = a_ids.clone();
                    let counts = move || {
                        ids.iter()
                            .map(|&id| dataplane::port::stats_of(id).map_or(0, |s| s.tx_packets))
                            .collect()
                    };
                    (a_ids, Arc::new(counts), ports, rings)
                }
            };
        let replay = bond.source == Source::Replay;
        let (tx, ends, counted) = if replay {
            let counted = Counted {
                src: port_id(&app, "src"),
                out: vec![port_id(&app, "dst")],
            };
            (Vec::new(), Vec::new(), Some(counted))
        } else {
            let tx = lookup_queues(&devices[0], workers);
            (tx, lookup_queues(&devices[1], workers), None)
        };
        // From here on every failure stops the rig in order (keeper, appliance, members).
        let mut rig = Rig {
            dut,
            app: Some(app),
            tx,
            members: vec![MemberRx {
                ends,
                cut: Arc::new(Cut::default()),
            }],
            member_ports,
            member_names: names,
            member_counts: Some(member_counts),
            counted,
            keeper: None,
            own_ports,
            own_rings,
            own_pool: None,
        };
        let ready = (|| {
            anyhow::ensure!(
                replay || (!rig.tx.is_empty() && !rig.members[0].ends.is_empty()),
                "no ring found for the source or the destination port"
            );
            if dut == Dut::NetBonding {
                let app = rig.appliance();
                let (a, b) = (
                    app.ports[port_of(app, "nbA")].id(),
                    app.ports[port_of(app, "nbB")].id(),
                );
                for id in [a, b] {
                    // SAFETY: a bonding port; plain setter.
                    let rc = unsafe {
                        dpdk_sys::rte_eth_bond_link_monitoring_set(id, bond.miimon.max(1))
                    };
                    anyhow::ensure!(
                        rc == 0,
                        "net_bonding: setting its link polling period: DPDK error {rc}"
                    );
                }
                // A replay transmits on nbA from the start, and those bursts carry nbA's
                // LACPDUs: the keeper must not burst there too.
                rig.keeper = Some(Keeper::spawn(a, b, !replay)?);
            }
            rig.converge(facing::CONVERGE_TIMEOUT)
        })();
        match ready {
            Ok(took) => {
                tracing::info!(
                    "{dut}: both 802.3ad bonds distribute on every member after {:.2} s",
                    took.as_secs_f64()
                );
                if let Some(k) = &rig.keeper {
                    k.release_a_tx();
                }
                Ok(rig)
            }
            Err(e) => {
                if let Err(stop) = rig.stop() {
                    tracing::warn!("{dut}: stopping after a failed start: {stop:#}");
                }
                Err(e)
            }
        }
    }

    /// Runs the control loop (bondd's LACP) until every member of both facing bonds
    /// distributes, or fails naming the device and every member's LACP state.
    fn converge(&mut self, timeout: std::time::Duration) -> anyhow::Result<std::time::Duration> {
        let t0 = std::time::Instant::now();
        let never = std::sync::atomic::AtomicBool::new(false);
        loop {
            let (ok, states) = self.lacp_state();
            if ok {
                return Ok(t0.elapsed());
            }
            anyhow::ensure!(
                t0.elapsed() < timeout,
                "{}: the 802.3ad bonds did not all distribute within {} s: {}",
                self.dut,
                timeout.as_secs(),
                states.join("; ")
            );
            self.appliance_mut().run_until(
                &never,
                Some(std::time::Duration::from_millis(20)),
                None,
                &mut std::io::sink(),
            );
        }
    }

    /// Whether both facing bonds distribute on every member, and each member's LACP state.
    fn lacp_state(&self) -> (bool, Vec<String>) {
        if self.dut != Dut::NetBonding {
            return facing::bondd_state(self.appliance());
        }
        // nbA's members, then nbB's.
        let (a, b) = self.own_ports.split_at(self.own_ports.len() / 2);
        let app = self.appliance();
        let cfg = app.config();
        let mut ok = true;
        let mut states = Vec::new();
        for (name, members) in [("nbA", a), ("nbB", b)] {
            let ids: Vec<u16> = members.iter().map(|p| p.id()).collect();
            let bond = cfg
                .ports
                .iter()
                .position(|e| e.name == name)
                .map(|i| app.ports[i].id());
            let (o, s) = match bond {
                Some(bond) => facing::net_bonding_state(name, bond, &ids),
                None => (false, vec![format!("no port {name}")]),
            };
            ok &= o;
            states.extend(s);
        }
        (ok, states)
    }

    /// The appliance of a DUT that has one (every one but an external device).
    fn appliance(&self) -> &Appliance {
        self.app
            .as_ref()
            .expect("this device under test runs in an appliance")
    }

    fn appliance_mut(&mut self) -> &mut Appliance {
        self.app
            .as_mut()
            .expect("this device under test runs in an appliance")
    }

    /// Stops the DUT; fails if any mbuf of the appliance's pool (or of the external ports'
    /// pool) was leaked.
    pub fn stop(self) -> anyhow::Result<()> {
        let Rig {
            app,
            keeper,
            own_ports,
            own_rings,
            own_pool,
            ..
        } = self;
        let Some(app) = app else {
            // Removed, not only closed: the next repetition probes the same devices again.
            for p in own_ports {
                p.drain_rx();
                p.detach()?;
            }
            if let Some(pool) = own_pool {
                let leaked = pool.in_use();
                anyhow::ensure!(
                    leaked == 0,
                    "{leaked} mbufs of the external ports' pool were never returned"
                );
            }
            return Ok(());
        };
        if let Some(k) = keeper {
            let stray = k.stop();
            if stray > 0 {
                tracing::warn!("net_bonding: {stray} data frames came back on nbA");
            }
        }
        let report = app.shutdown();
        drop(own_ports);
        drop(own_rings);
        let report = report?;
        anyhow::ensure!(
            report.mbufs_in_use_after_shutdown == 0,
            "{} mbufs of the appliance's pool leaked",
            report.mbufs_in_use_after_shutdown
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Iface;
    use crate::options::{LacpRate, Mode, XmitHashPolicy};

    fn bond(mode: u8, sink: Sink) -> BondSetup {
        BondSetup {
            mode,
            policy: "layer3+4".into(),
            miimon: 10,
            members: 3,
            extra: String::new(),
            sink,
            source: Source::Generator,
        }
    }

    fn place() -> Placement {
        Placement {
            control_core: 0,
            workers: vec![1],
            memory: "no-huge".into(),
        }
    }

    fn check(text: &str) -> Checked {
        Config::parse(text, std::path::Path::new("<bench>"))
            .unwrap()
            .check(&[0, 1])
            .unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    fn paths(c: &Checked) -> Vec<(String, String)> {
        c.paths
            .iter()
            .map(|&(a, b)| (c.iface_name(a).to_owned(), c.iface_name(b).to_owned()))
            .collect()
    }

    #[test]
    fn mode_4_is_two_bonds_facing_each_other_read_frame_by_frame() {
        let all = [Dut::Bondd, Dut::NetBonding, Dut::None];
        bond(4, Sink::Ring).validate(&all).unwrap();
        let e = bond(4, Sink::Null).validate(&all).unwrap_err();
        assert!(e.contains("--sink null") && e.contains("802.3ad"), "{e}");
        let e = bond(5, Sink::Ring).validate(&[Dut::Bondd]).unwrap_err();
        assert!(e.contains("modes 0-4"), "{e}");
        // Modes 0-3 still refuse net_bonding over ring members.
        assert!(bond(2, Sink::Ring).validate(&all).is_err());
        // net_bonding hashes in 802.3ad as in balance-xor, and has no encap policies.
        let b = bond(4, Sink::Ring);
        assert_eq!(b.net_bonding_args().unwrap(), "mode=4,xmit_policy=l34");
        let e = BondSetup {
            policy: "encap3+4".into(),
            ..bond(4, Sink::Ring)
        }
        .validate(&[Dut::NetBonding])
        .unwrap_err();
        assert!(e.contains("encap3+4"), "{e}");

        let dir = std::path::Path::new("/tmp/x");
        // bondd: bondA over side 0 of three ring pairs, bondB over side 1, one-way paths.
        let (text, devices) = config_text(Dut::Bondd, &b, &place(), 7, dir).unwrap();
        let c = check(&text);
        assert_eq!(devices.len(), 2, "source and destination: {devices:?}");
        assert_eq!(
            paths(&c),
            [
                ("src".into(), "bondA".into()),
                ("bondB".into(), "dst".into())
            ]
        );
        assert_eq!(c.bonds.len(), 2);
        for (bs, side, mac) in [
            (&c.bonds[0], 0, facing::MAC_A),
            (&c.bonds[1], 1, facing::MAC_B),
        ] {
            assert_eq!(bs.options.mode, Mode::Ieee8023ad);
            assert_eq!(bs.options.lacp_rate, LacpRate::Fast);
            assert_eq!(bs.options.xmit_hash_policy, XmitHashPolicy::Layer34);
            assert_eq!(
                bs.mac.map(|m| dataplane::wire::MacAddr(m).to_string()),
                Some(mac.to_owned())
            );
            assert_eq!(bs.members.len(), 3);
            for (i, &m) in bs.members.iter().enumerate() {
                assert!(
                    c.ports[m].device.starts_with("bondd_ring_pair:")
                        && c.ports[m].device.ends_with(&format!("m{i}:{side}")),
                    "{}",
                    c.ports[m].device
                );
            }
        }
        assert_eq!(c.ports[c.bonds[0].members[0]].name, "eth0");
        // dst is never an ingress: the worker never reads the net_ring's loop back.
        assert!(
            !c.paths
                .iter()
                .any(|&(a, _)| a
                    == Iface::Port(c.ports.iter().position(|p| p.name == "dst").unwrap()))
        );

        // net_bonding: two mode-4 ports with their own MACs over crossed ring members.
        let (text, devices) = config_text(Dut::NetBonding, &b, &place(), 8, dir).unwrap();
        let c = check(&text);
        assert_eq!(devices.len(), 2);
        assert!(c.bonds.is_empty());
        assert_eq!(
            paths(&c),
            [("src".into(), "nbA".into()), ("nbB".into(), "dst".into())]
        );
        let p = std::process::id() % 10_000;
        for (name, side, mac) in [("nbA", 'a', facing::MAC_A), ("nbB", 'b', facing::MAC_B)] {
            let port = c.ports.iter().find(|e| e.name == name).unwrap();
            assert!(port.device.starts_with("net_bonding_"), "{}", port.device);
            assert!(
                port.device.contains(",mode=4,xmit_policy=l34,")
                    && port.device.contains(&format!("mac={mac}")),
                "{}",
                port.device
            );
            for i in 0..3 {
                assert!(
                    port.device
                        .contains(&format!("slave=net_ring_nb{p}_8{side}{i}")),
                    "{}",
                    port.device
                );
            }
            assert!(port.promiscuous, "{name} takes frames for any MAC");
        }

        // none keeps its single net_ring port, read by the receiver.
        let (text, devices) = config_text(Dut::None, &b, &place(), 9, dir).unwrap();
        let c = check(&text);
        assert_eq!(paths(&c), [("src".into(), "eth0".into())]);
        assert!(devices[1].starts_with("net_ring"), "{devices:?}");
    }

    #[test]
    fn a_replay_reads_a_pcap_loop_into_null_ports() {
        let dir = std::path::Path::new("/tmp/x");
        let pcap = format!("rx_pcap={},infinite_rx=1", replay_file(dir).display());
        let replay = |mode, sink| BondSetup {
            source: Source::Replay,
            ..bond(mode, sink)
        };
        // Whatever --sink says, the members are net_null ports counted by their statistics.
        for dut in [Dut::Bondd, Dut::NetBonding, Dut::None] {
            let (text, devices) =
                config_text(dut, &replay(2, Sink::Ring), &place(), 10, dir).unwrap();
            let c = check(&text);
            assert!(
                devices[0].starts_with("net_pcap") && devices[0].ends_with(&pcap),
                "{dut}: {devices:?}"
            );
            let sinks: Vec<&String> = match dut {
                // net_bonding's members are not ports of the config.
                Dut::NetBonding => vec![],
                _ => devices[1..].iter().collect(),
            };
            for d in sinks {
                assert!(
                    d.starts_with("net_null") && d.ends_with(",no-rx=1"),
                    "{dut}: {d}"
                );
            }
            assert!(
                c.ports.iter().all(|p| !p.device.starts_with("net_ring")),
                "{dut}: {text}"
            );
        }
        // 802.3ad: the facing bonds keep their links; src replays, dst is a null port.
        for dut in [Dut::Bondd, Dut::NetBonding] {
            let (text, devices) =
                config_text(dut, &replay(4, Sink::Ring), &place(), 11, dir).unwrap();
            check(&text);
            assert!(devices[0].ends_with(&pcap), "{dut}: {devices:?}");
            assert!(devices[1].starts_with("net_null"), "{dut}: {devices:?}");
        }
        // Checks: any sink, net_bonding's policies still, no external device.
        replay(4, Sink::Null)
            .validate(&[Dut::Bondd, Dut::NetBonding, Dut::None])
            .unwrap();
        replay(2, Sink::Ring).validate(&[Dut::NetBonding]).unwrap();
        let e = BondSetup {
            policy: "encap3+4".into(),
            ..replay(2, Sink::Null)
        }
        .validate(&[Dut::NetBonding])
        .unwrap_err();
        assert!(e.contains("encap3+4"), "{e}");
        let e = replay(2, Sink::Null)
            .validate(&[Dut::External])
            .unwrap_err();
        assert!(
            e.contains("--source replay") && e.contains("external"),
            "{e}"
        );
    }
}
