//! The devices under test, each set up in-process over identical members:
//!
//! - `bondd`: the appliance, forwarding a `net_ring` source port into a bond of `net_ring`
//!   members;
//! - `net_bonding`: the same appliance forwarding the same source into DPDK's bonding PMD
//!   (a plain port to the appliance) over `net_ring` members of its own;
//! - `none`: the appliance forwarding the source straight to one `net_ring` port, the upper
//!   bound.
//!
//! All three run the same worker loop on the same cores, so what differs is the bond. The
//! generator feeds the source port's RX rings and the receiver drains the members' TX rings
//! (a `net_ring` vdev shares one ring per queue between RX and TX, named
//! `ETH_RXTX<q>_<device>`; nothing polls the members' RX, so nothing else takes from them).

use super::engine::{Cut, End, MemberRx};
use crate::appliance::Appliance;
use crate::config::{Checked, Config};
use dataplane::port::Port;
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
}

impl std::str::FromStr for Dut {
    type Err = String;
    fn from_str(s: &str) -> Result<Dut, String> {
        match s {
            "bondd" => Ok(Dut::Bondd),
            "net_bonding" | "net-bonding" | "netbonding" => Ok(Dut::NetBonding),
            "none" | "plain" => Ok(Dut::None),
            _ => Err(format!(
                "unknown device under test {s:?} (known: bondd, net_bonding, none)"
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

/// The bond every DUT is built with.
#[derive(Debug, Clone)]
pub struct BondSetup {
    /// Linux mode number 0..=3.
    pub mode: u8,
    /// Linux xmit_hash_policy name (balance-xor).
    pub policy: String,
    pub miimon: u32,
    pub members: usize,
    /// More Linux options for bondd (`BONDING_OPTS` form), e.g. "updelay=20".
    pub extra: String,
    pub sink: Sink,
}

impl BondSetup {
    /// Member names, as bondd's status and the report call them.
    pub fn member_names(&self) -> Vec<String> {
        (0..self.members).map(|i| format!("eth{i}")).collect()
    }

    /// net_bonding's devargs for the same bond, or why there is no equivalent.
    fn net_bonding_args(&self) -> Result<String, String> {
        let mut a = format!("mode={}", self.mode);
        if self.mode == 2 {
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

    /// Checks what every DUT can be built with.
    pub fn validate(&self, duts: &[Dut]) -> Result<(), String> {
        if self.mode > 3 {
            return Err(format!(
                "--mode {}: the in-process harness measures modes 0-3 (802.3ad needs a \
                 partner; see benches/ for the mode-4 comparison)",
                self.mode
            ));
        }
        if !(1..=8).contains(&self.members) {
            return Err(format!("--members {}: 1 to 8", self.members));
        }
        if duts.contains(&Dut::NetBonding) {
            self.net_bonding_args()?;
            if self.sink == Sink::Ring {
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

/// Cores and memory for every DUT.
#[derive(Debug, Clone)]
pub struct Placement {
    pub control_core: usize,
    pub workers: Vec<usize>,
    /// "auto", "hugepages" or "no-huge".
    pub memory: String,
}

/// A device under test, running.
pub struct Rig {
    pub dut: Dut,
    pub app: Appliance,
    /// Where the generator hands frames.
    pub tx: Vec<End>,
    /// Per member: where its frames arrive, and its cut switch.
    pub members: Vec<MemberRx>,
    /// Per member: the DPDK port whose link a fault takes down.
    pub member_ports: Vec<u16>,
    pub member_names: Vec<String>,
    /// net_bonding's members and their rings, closed after the appliance.
    own_ports: Vec<Port>,
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
    let p = std::process::id() % 10_000;
    let src = format!("net_ringB{p}_{k}s");
    let mut t = format!(
        "[eal]\nmemory = \"{}\"\n[cores]\ncontrol = {}\nworkers = {:?}\n\
         [[port]]\nname = \"src\"\ndevice = \"{src}\"\n",
        place.memory, place.control_core, place.workers
    );
    let members: Vec<String> = (0..bond.members)
        .map(|i| match bond.sink {
            Sink::Ring => format!("net_ringB{p}_{k}m{i}"),
            Sink::Null => format!("net_nullB{p}_{k}m{i},no-rx=1"),
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
        Dut::None => {
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
        place: &Placement,
        run_dir: &std::path::Path,
    ) -> anyhow::Result<Rig> {
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
        let tx = lookup_queues(&devices[0], workers);
        anyhow::ensure!(
            !tx.is_empty(),
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
                                ends: if bond.sink == Sink::Ring {
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
        Ok(Rig {
            dut,
            app,
            tx,
            members,
            member_ports,
            member_names,
            own_ports,
        })
    }

    /// Stops the DUT; fails if any mbuf of the appliance's pool was leaked.
    pub fn stop(self) -> anyhow::Result<()> {
        let Rig { app, own_ports, .. } = self;
        let report = app.shutdown()?;
        drop(own_ports);
        anyhow::ensure!(
            report.mbufs_in_use_after_shutdown == 0,
            "{} mbufs of the appliance's pool leaked",
            report.mbufs_in_use_after_shutdown
        );
        Ok(())
    }
}
