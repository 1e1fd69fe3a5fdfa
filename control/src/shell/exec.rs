//! What each shell command does to the running appliance. Every change goes through the same
//! checks as the config file, and is refused with the same messages.

use super::grammar::{self, Command, FwdMode as GFwd, PortSel, Target};
use super::server::Reply;
use crate::appliance::Appliance;
use crate::options::find_option;
use dataplane::fwd::{FwdMode, Plan};
use dataplane::wire::MacAddr;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

/// Throughput since the last `show port stats`, per port.
#[derive(Default)]
pub struct ShowState {
    pub(crate) last: Vec<Option<(Instant, dataplane::port::PortStats)>>,
}

impl Appliance {
    /// Runs one command line and returns what the operator sees.
    pub fn execute_line(&mut self, line: &str) -> Reply {
        match grammar::parse(line) {
            Ok(None) => Reply::ok(""),
            Ok(Some(cmd)) => match self.execute(cmd) {
                Ok(r) => r,
                Err(e) => Reply::err(e),
            },
            Err(e) => Reply::err(e.to_string()),
        }
    }

    /// The names completion offers.
    pub fn names(&self) -> grammar::Names {
        let c = &self.checked;
        grammar::Names {
            bonds: c.bonds.iter().map(|b| b.name.clone()).collect(),
            members: c
                .ports
                .iter()
                .filter(|p| p.bond.is_some())
                .map(|p| p.name.clone())
                .collect(),
            ports: c.ports.iter().map(|p| p.name.clone()).collect(),
            options: crate::options::option_table()
                .iter()
                .map(|o| o.name.to_owned())
                .collect(),
        }
    }

    fn port_index(&self, t: &Target) -> Result<usize, String> {
        let n = self.checked.ports.len();
        match t {
            Target::Index(i) if (*i as usize) < n => Ok(*i as usize),
            Target::Index(i) => Err(format!("no port {i} (ports are 0 to {})", n - 1)),
            Target::Name(name) => self
                .checked
                .ports
                .iter()
                .position(|p| &p.name == name)
                .ok_or_else(|| format!("no port named {name:?}")),
        }
    }

    fn ports_of(&self, sel: &PortSel) -> Result<Vec<usize>, String> {
        match sel {
            PortSel::All => Ok((0..self.checked.ports.len()).collect()),
            PortSel::One(t) => Ok(vec![self.port_index(t)?]),
        }
    }

    fn bond_index(&self, t: &Target) -> Result<usize, String> {
        let n = self.bonds.len();
        match t {
            Target::Index(i) if (*i as usize) < n => Ok(*i as usize),
            Target::Index(i) if n == 0 => Err(format!("no bond {i}: no bond is configured")),
            Target::Index(i) => Err(format!("no bond {i} (bonds are numbered 0 to {})", n - 1)),
            Target::Name(name) => self
                .bonds
                .iter()
                .position(|b| &b.name == name)
                .ok_or_else(|| format!("no bond named {name:?}")),
        }
    }

    fn forwarding(&self) -> bool {
        self.workers.is_some()
    }

    /// Changes one Linux option of a bond, with the config file's checks.
    fn set_option(&mut self, b: usize, name: &str, value: &str) -> Result<Reply, String> {
        let spec = find_option(name).ok_or_else(|| {
            crate::options::OptionError::UnknownOption {
                name: name.to_owned(),
                suggestion: None,
            }
            .to_string()
        })?;
        if spec.requires_down && self.forwarding() {
            return Err(format!(
                "option '{}' can only change while the bond is down: stop forwarding first (stop)",
                spec.name
            ));
        }
        let bond = &self.bonds[b];
        let mut o = bond.opts.clone();
        o.set(name, value).map_err(|e| e.to_string())?;
        let members: Vec<&str> = bond.members.iter().map(|m| m.name.as_str()).collect();
        let mut warns = o.finalize();
        warns.extend(o.validate(&members).map_err(|e| e.to_string())?);
        if let Some((_, why)) = crate::config::unsupported(&o) {
            return Err(format!("bond {}: {why}", bond.name));
        }
        let mode_changed = o.mode != bond.opts.mode;
        let actions = self.bonds[b].apply_options(o);
        self.checked.bonds[b].options = self.bonds[b].opts.clone();
        self.carry_out(b, actions);
        if mode_changed {
            // Into or out of 802.3ad changes what the workers do with the bond (slow-protocol
            // frames to the control thread, a listening path); the mode needs the bond down,
            // so the workers are stopped and take the new plan when started.
            self.rebuild_plan()?;
        }
        self.next_mii[b] = self.bonds[b].miimon().map(|m| Instant::now() + m);
        let mut text = format!(
            "bond {}: {} = {}",
            self.bonds[b].name,
            spec.name,
            value.trim()
        );
        for w in warns {
            let _ = write!(text, "\nwarning: {}", w.message);
        }
        Ok(Reply::ok(text))
    }

    fn stop_forwarding(&mut self) -> Result<String, String> {
        let Some(w) = self.workers.take() else {
            return Err("packet forwarding is not started".into());
        };
        w.stop_and_join().map_err(|e| e.to_string())?;
        let mut out = String::from("Telling workers to stop... done\n");
        for p in self.sample() {
            let _ = writeln!(
                out,
                "  {:<12} RX-packets: {:<12} TX-packets: {:<12} dropped: {}",
                p.name,
                p.worker.rx,
                p.worker.tx,
                p.worker.dropped()
            );
        }
        Ok(out)
    }

    fn start_forwarding(&mut self, mode: Option<FwdMode>) -> Result<String, String> {
        if self.forwarding() {
            return Err("packet forwarding is already started".into());
        }
        let old = self.plan.as_ref().ok_or("no forwarding plan")?;
        let plan = Arc::new(Plan {
            mode: mode.unwrap_or(old.mode),
            ..Plan::clone(old)
        });
        let w = crate::appliance::spawn_workers(&self.checked.worker_cores, &plan, &self.counters)
            .map_err(|e| e.to_string())?;
        self.plan = Some(plan);
        self.workers = Some(w);
        Ok(format!(
            "{} packet forwarding started on {} worker(s)",
            self.plan.as_ref().unwrap().mode,
            self.checked.worker_cores.len()
        ))
    }

    /// Runs one parsed command.
    pub fn execute(&mut self, cmd: Command) -> Result<Reply, String> {
        use Command::*;
        let json = |v: serde_json::Value| Ok(Reply::ok(v.to_string()));
        match cmd {
            Quit => Ok(Reply {
                ok: true,
                text: "Stopping bondd...".into(),
                quit: true,
            }),
            Help { topic } => grammar::help(topic.as_deref())
                .map(Reply::ok)
                .map_err(|e| e.to_string()),
            Start => self.start_forwarding(None).map(Reply::ok),
            Stop => self.stop_forwarding().map(Reply::ok),
            SetFwd { mode } => {
                let m = match mode {
                    GFwd::Io => FwdMode::Io,
                    GFwd::Mac => FwdMode::Mac,
                };
                let was = self.forwarding();
                if was {
                    self.stop_forwarding()?;
                }
                if let Some(p) = &self.plan {
                    let p = Arc::clone(p);
                    self.plan = Some(Arc::new(Plan {
                        mode: m,
                        ..Plan::clone(&p)
                    }));
                }
                if was {
                    self.start_forwarding(None)?;
                }
                Ok(Reply::ok(format!("Set {m} packet forwarding mode")))
            }
            SetLinkUp { port } => self.link(&port, true),
            SetLinkDown { port } => self.link(&port, false),
            ClearPortStats { port } => {
                let mut out = String::new();
                for i in self.ports_of(&port)? {
                    self.ports[i].reset_stats().map_err(|e| e.to_string())?;
                    let _ = writeln!(out, "  NIC statistics for port {i} cleared");
                }
                Ok(Reply::ok(out.trim_end()))
            }
            ShowPortSummary { port, json: j } => {
                let idx = self.ports_of(&port)?;
                if j {
                    let v: Vec<_> = idx.iter().map(|&i| self.port_json(i)).collect();
                    return json(serde_json::Value::Array(v));
                }
                let mut out = format!("Number of available ports: {}\n", self.ports.len());
                let _ = writeln!(
                    out,
                    "{:<5}{:<18}{:<12}{:<16}{:<8}Link",
                    "Port", "MAC Address", "Name", "Driver", "Status"
                );
                for i in idx {
                    let p = &self.ports[i];
                    let l = p.link();
                    let _ = writeln!(
                        out,
                        "{:<5}{:<18}{:<12}{:<16}{:<8}{}",
                        i,
                        mac_text(p.mac().unwrap_or_default()),
                        self.checked.ports[i].name,
                        p.info().map(|d| d.driver).unwrap_or_default(),
                        if l.up { "up" } else { "down" },
                        speed_text(l.speed_mbps)
                    );
                }
                Ok(Reply::ok(out.trim_end()))
            }
            ShowPortInfo { port, json: j } => {
                let idx = self.ports_of(&port)?;
                if j {
                    let v: Vec<_> = idx.iter().map(|&i| self.port_json(i)).collect();
                    return json(serde_json::Value::Array(v));
                }
                let mut out = String::new();
                for i in idx {
                    out += &self.port_info_text(i);
                }
                Ok(Reply::ok(out.trim_end()))
            }
            ShowPortStats { port, json: j } => {
                let idx = self.ports_of(&port)?;
                if j {
                    let v: Vec<_> = idx
                        .iter()
                        .map(|&i| {
                            serde_json::json!({
                                "port": i,
                                "name": self.checked.ports[i].name,
                                "nic": self.ports[i].stats().unwrap_or_default(),
                            })
                        })
                        .collect();
                    return json(serde_json::Value::Array(v));
                }
                let mut out = String::new();
                for i in idx {
                    out += &self.port_stats_text(i);
                }
                Ok(Reply::ok(out.trim_end()))
            }
            ShowPortXstats { port, json: j } => {
                let mut out = String::new();
                let mut all = Vec::new();
                for i in self.ports_of(&port)? {
                    let x = self.ports[i].xstats().map_err(|e| e.to_string())?;
                    let _ = writeln!(out, "###### NIC extended statistics for port {i} ######");
                    for (n, v) in &x {
                        let _ = writeln!(out, "{n}: {v}");
                    }
                    all.push(serde_json::json!({"port": i, "xstats": x}));
                }
                if j {
                    return json(serde_json::Value::Array(all));
                }
                Ok(Reply::ok(out.trim_end()))
            }
            ShowBondList { json: j } => {
                if j {
                    let v: Vec<_> = self
                        .bonds
                        .iter()
                        .enumerate()
                        .map(|(i, b)| {
                            serde_json::json!({
                                "bond": i,
                                "name": b.name,
                                "mode": b.opts.mode.name(),
                                "members": b.members.iter().map(|m| &m.name).collect::<Vec<_>>(),
                            })
                        })
                        .collect();
                    return json(serde_json::Value::Array(v));
                }
                let mut out = String::new();
                for (i, b) in self.bonds.iter().enumerate() {
                    let names: Vec<&str> = b.members.iter().map(|m| m.name.as_str()).collect();
                    let _ = writeln!(
                        out,
                        "{i}: {} ({}) [{}]",
                        b.name,
                        b.opts.mode,
                        names.join(" ")
                    );
                }
                if out.is_empty() {
                    out = "no bond is configured".into();
                }
                Ok(Reply::ok(out.trim_end()))
            }
            ShowBondConfig { bond, json: j } => {
                let b = self.bond_index(&bond)?;
                if j {
                    return json(
                        serde_json::to_value(self.bonds[b].snapshot())
                            .map_err(|e| e.to_string())?,
                    );
                }
                Ok(Reply::ok(self.bond_config_text(b)))
            }
            ShowBondStatus { bond, json: j } => {
                let b = self.bond_index(&bond)?;
                let snap = self.bonds[b].snapshot();
                if j {
                    return crate::status::render_json(&snap)
                        .map(Reply::ok)
                        .map_err(|e| e.to_string());
                }
                Ok(Reply::ok(crate::status::render_proc(
                    &snap,
                    &format!("v{} (bondd)", env!("CARGO_PKG_VERSION")),
                )))
            }
            ShowBondEvents {
                bond,
                count,
                json: j,
            } => {
                let b = self.bond_index(&bond)?;
                let n = count.unwrap_or(20) as usize;
                let log = &self.bonds[b].events;
                if j {
                    let v: Vec<_> = log
                        .iter_recent(n)
                        .map(|e| serde_json::json!({
                            "time": crate::events::format_line(e).split(' ').next().unwrap_or(""),
                            "event": e.event,
                            "failover_ms": e.failover.map(|d| d.as_secs_f64() * 1e3),
                        }))
                        .collect();
                    return json(serde_json::Value::Array(v));
                }
                let lines: Vec<String> =
                    log.iter_recent(n).map(crate::events::format_line).collect();
                Ok(Reply::ok(if lines.is_empty() {
                    "no events".to_owned()
                } else {
                    lines.join("\n")
                }))
            }
            ShowLacpInfo { bond, json: j } => {
                let b = self.bond_index(&bond)?;
                let bond = &self.bonds[b];
                let Some(l) = &bond.lacp else {
                    return Err(format!("bond {} is not in 802.3ad mode", bond.name));
                };
                if j {
                    let v: Vec<_> = (0..bond.members.len())
                        .filter_map(|i| l.port(i).map(|p| (i, p.status())))
                        .map(|(i, st)| {
                            serde_json::json!({
                                "member": bond.members[i].name,
                                "status": st,
                                "lacpdu_times": bond.members[i].lacpdu_times,
                            })
                        })
                        .collect();
                    return json(serde_json::Value::Array(v));
                }
                let fmt_stats = |x: &crate::lacp::port::LacpStats| {
                    // The words of `ip -s link show type bond_slave` / xstats type bond.
                    format!(
                        "LACPDU Rx {} LACPDU Tx {} LACPDU Unknown type Rx {} LACPDU Illegal Rx {} \
                         Marker Rx {} Marker Tx {} Marker response Rx {} Marker response Tx {} \
                         Marker unknown type Rx {}",
                        x.lacpdu_rx,
                        x.lacpdu_tx,
                        x.lacpdu_unknown_rx,
                        x.lacpdu_illegal_rx,
                        x.marker_rx,
                        x.marker_tx,
                        x.marker_resp_rx,
                        x.marker_resp_tx,
                        x.marker_unknown_rx
                    )
                };
                let mut o = format!(
                    "\tsystem priority: {}, system: {}, carrier: {}\n",
                    l.params().system_priority,
                    l.params().system,
                    if l.carrier() { "up" } else { "down" }
                );
                let _ = writeln!(o, "\tbond counters: {}", fmt_stats(&l.stats()));
                for (i, m) in bond.members.iter().enumerate() {
                    let Some(p) = l.port(i) else { continue };
                    let st = p.status();
                    let _ = writeln!(
                        o,
                        "\tmember {} (port {}): aggregator {:?}, selected {:?}, mux {:?}, rx {:?}",
                        m.name,
                        i + 1,
                        st.aggregator_id,
                        st.selected,
                        st.mux_state,
                        st.rx_state
                    );
                    for (who, x) in [("actor", &st.actor), ("partner", &st.partner)] {
                        let _ = writeln!(
                            o,
                            "\t\t{who}: system {} prio {} key {} port {} prio {} state {}",
                            x.system,
                            x.system_priority,
                            x.key,
                            x.port,
                            x.port_priority,
                            x.state.describe()
                        );
                    }
                    let _ = writeln!(o, "\t\tcounters: {}", fmt_stats(&st.stats));
                    let mk = &st.marker;
                    if let Some(req) = mk.last_request_tid {
                        let answer = match (mk.pending, mk.last_rtt_ms) {
                            (true, _) => "not answered yet".to_owned(),
                            (false, Some(ms)) => format!("answered in {ms} ms"),
                            (false, None) => "answered".to_owned(),
                        };
                        let _ = writeln!(
                            o,
                            "\t\tmarker: last request transaction id {req}, {answer}; last \
                             response transaction id {}",
                            mk.last_response_tid
                                .map_or_else(|| "none".to_owned(), |t| t.to_string())
                        );
                    }
                }
                Ok(Reply::ok(o.trim_end()))
            }
            SetAggMode { bond, agg_mode } => {
                let b = self.bond_index(&bond)?;
                self.set_option(b, "ad_select", &agg_mode)
            }
            SetDedicatedQueues { bond, enable } => {
                let b = self.bond_index(&bond)?;
                Ok(Reply::ok(format!(
                    "bond {}: LACP frames always take their own path in bondd (the control \
                     thread's TX queue, or worker 0's relay; received ones are handed over by \
                     the workers), so dedicated queues are {}",
                    self.bonds[b].name,
                    if enable {
                        "already in effect"
                    } else {
                        "not needed"
                    }
                )))
            }
            SetMode { mode, bond } => {
                let b = self.bond_index(&bond)?;
                self.set_option(b, "mode", &mode)
            }
            SetXmitPolicy { bond, policy } => {
                let b = self.bond_index(&bond)?;
                self.set_option(b, "xmit_hash_policy", &policy)
            }
            SetMonPeriod { bond, ms } => {
                let b = self.bond_index(&bond)?;
                self.set_option(b, "miimon", &ms.to_string())
            }
            SetOption {
                bond,
                option,
                value,
            } => {
                let b = self.bond_index(&bond)?;
                self.set_option(b, &option, &value)
            }
            SetPrimary { port, bond } => {
                let b = self.bond_index(&bond)?;
                let name = self.member_name(b, &port)?;
                self.set_option(b, "primary", &name)
            }
            SendMarker { bond, member } => {
                let b = self.bond_index(&bond)?;
                let name = self.member_name(b, &member)?;
                let bond = &self.bonds[b];
                if bond.lacp.is_none() {
                    return Err(format!("bond {} is not in 802.3ad mode", bond.name));
                }
                let o = bond
                    .members
                    .iter()
                    .position(|m| m.name == name)
                    .ok_or_else(|| format!("{name} is not a member of {}", bond.name))?;
                let (actions, tid) = self.bonds[b]
                    .lacp_send_marker(o)
                    .map_err(|e| e.to_string())?;
                let failed = self.ctrl_failed;
                self.carry_out(b, actions);
                if self.ctrl_failed != failed {
                    return Err(format!(
                        "bond {}: the marker request on {name} could not be sent",
                        self.bonds[b].name
                    ));
                }
                let bond = &self.bonds[b];
                let (port, system) = bond
                    .lacp
                    .as_ref()
                    .and_then(|l| l.port(o))
                    .map(|p| (p.actor().port, p.actor().system))
                    .unwrap_or_default();
                Ok(Reply::ok(format!(
                    "bond {}: marker request sent on {name} (requester port {port}, system \
                     {system}, transaction id {tid})",
                    bond.name
                )))
            }
            SetActive { bond, member } => {
                let b = self.bond_index(&bond)?;
                let name = self.member_name(b, &member)?;
                let actions = self.bonds[b].set_active(&name).map_err(|e| e.to_string())?;
                self.carry_out(b, actions);
                Ok(Reply::ok(format!(
                    "bond {}: {name} is the active member",
                    self.bonds[b].name
                )))
            }
            SetMacAddr { bond, mac } => {
                let b = self.bond_index(&bond)?;
                // The workers' `mac` engine writes the bond's address: they take the new one
                // with a new plan.
                self.with_workers_stopped(|app| {
                    app.checked.bonds[b].random_mac = false;
                    app.checked.bonds[b].mac = Some(mac);
                    let actions = app.bonds[b].adopt_mac(mac);
                    app.carry_out(b, actions);
                    if app.bonds[b].opts.fail_over_mac == crate::options::FailOverMac::None {
                        for m in app.bonds[b].members.clone() {
                            if let Err(e) = app.ports[m.index as usize].set_mac(mac) {
                                tracing::warn!("port {}: {e}", m.name);
                            }
                        }
                    }
                    app.write_status(b);
                    Ok(format!("bond {}: MAC {}", app.bonds[b].name, mac_text(mac)))
                })
            }
            AddMember { port, bond } => {
                let b = self.bond_index(&bond)?;
                let i = self.port_index(&port)?;
                self.add_member(b, i)
            }
            RemoveMember { port, bond } => {
                let b = self.bond_index(&bond)?;
                let name = self.member_name(b, &port)?;
                self.remove_member(b, &name)
            }
            CreateBond { mode, socket } => self.create_bond(&mode, socket),
            AddForward { from, to } => self.add_forward(&from, &to),
            RemoveForward { from, to } => self.remove_forward(&from, &to),
            ShowFwd { json: j } => Ok(self.show_fwd(j)),
        }
    }

    /// Runs `change` with the workers stopped, then rebuilds the plan (a bond's members are
    /// part of it) and restarts them if they were running.
    fn with_workers_stopped(
        &mut self,
        change: impl FnOnce(&mut Self) -> Result<String, String>,
    ) -> Result<Reply, String> {
        let was = self.forwarding();
        if was {
            self.stop_forwarding()?;
        }
        let out = change(self);
        let rebuilt = self.rebuild_plan();
        if was {
            self.start_forwarding(None)?;
        }
        rebuilt?;
        out.map(Reply::ok)
    }

    /// A new plan for the appliance as it is now: every bond with its members, every path,
    /// and the slow-protocol rings once some bond runs 802.3ad. Only while the workers are
    /// stopped.
    fn rebuild_plan(&mut self) -> Result<(), String> {
        let Some(old) = self.plan.clone() else {
            return Ok(());
        };
        if self.to_control.is_empty() && self.bonds.iter().any(|b| b.lacp.is_some()) {
            let n = self.checked.worker_cores.len() as u16;
            self.to_control = crate::appliance::slow_rings(n).map_err(|e| e.to_string())?;
        }
        let (paths, bonds) = crate::appliance::plan_parts(&self.checked, &self.ports, &self.bonds);
        self.plan = Some(Arc::new(Plan {
            paths,
            bonds,
            control_relay: self.relay.clone(),
            relay_index: self.ports.len() + self.bonds.len(),
            to_control: self.to_control.clone(),
            ..Plan::clone(&old)
        }));
        Ok(())
    }

    /// `create bonding device <mode> <socket>`: a bond without members, named after the first
    /// free `bondN` as Linux names them, with Linux's defaults for every other option. Members
    /// come with `add bonding member`, traffic with `add forward`.
    fn create_bond(&mut self, mode: &str, socket: u32) -> Result<Reply, String> {
        let sockets = dataplane::eal::socket_count().max(1);
        if socket >= sockets {
            return Err(format!(
                "create bonding device: no NUMA socket {socket} (this machine has {sockets}, \
                 numbered from 0)"
            ));
        }
        let mut o = crate::options::BondOptions::default();
        o.set("mode", mode).map_err(|e| e.to_string())?;
        let mut warns = o.finalize();
        warns.extend(o.validate(&[]).map_err(|e| e.to_string())?);
        if let Some((_, why)) = crate::config::unsupported(&o) {
            return Err(format!("create bonding device: {why}"));
        }
        let taken = |n: &str| {
            self.checked.bonds.iter().any(|b| b.name == n)
                || self.checked.ports.iter().any(|p| p.name == n)
        };
        let name = (0..)
            .map(|n| format!("bond{n}"))
            .find(|n| !taken(n))
            .expect("some bondN is free");
        let qsbr = self
            .plan
            .as_ref()
            .map(|p| Arc::clone(&p.qsbr))
            .ok_or("no forwarding plan")?;
        let mode_text = o.mode.to_string();
        self.with_workers_stopped(|app| {
            let (nports, nbonds) = (app.ports.len(), app.bonds.len());
            // One more counter block, for the bond; the relay's block stays last.
            let relay = nports + nbonds;
            app.counters = app
                .counters
                .iter()
                .map(|c| Arc::new(c.regrown(relay + 2, |i| if i >= relay { i + 1 } else { i })))
                .collect();
            let ident = crate::bond::Identity {
                mac: random_mac(),
                ipv4: Vec::new(),
                ipv6: Vec::new(),
            };
            app.bonds.push(crate::bond::Bond::new(
                &name,
                o.clone(),
                Vec::new(),
                ident,
                qsbr,
            ));
            app.checked.bonds.push(crate::config::BondSpec {
                name: name.clone(),
                options: o,
                members: Vec::new(),
                mac: None,
                ipv4: Vec::new(),
                ipv6: Vec::new(),
                random_mac: true,
            });
            let b = app.bonds.len() - 1;
            app.next_mii
                .push(app.bonds[b].miimon().map(|m| Instant::now() + m));
            app.write_status(b);
            tracing::info!("{name}: created ({mode_text}) from the shell");
            let mut text = format!(
                "Created new bonding device {name} (bond {b}, mode {mode_text}) on socket \
                 {socket}; add members with \"add bonding member <port> {name}\" and traffic \
                 with \"add forward\""
            );
            for w in warns {
                let _ = write!(text, "\nwarning: {}", w.message);
            }
            Ok(text)
        })
    }

    /// Resolves a forwarding end: a plain port by number or name, or a bond by name.
    fn iface(&self, t: &Target) -> Result<crate::config::Iface, String> {
        use crate::config::Iface;
        let by_name = |n: &str| {
            if let Some(b) = self.checked.bonds.iter().position(|b| b.name == n) {
                return Ok(Iface::Bond(b));
            }
            self.port_index(&Target::Name(n.to_owned()))
                .map(Iface::Port)
        };
        let i = match t {
            Target::Name(n) => by_name(n)?,
            Target::Index(_) => Iface::Port(self.port_index(t)?),
        };
        if let Iface::Port(p) = i
            && let Some(b) = self.checked.ports[p].bond
        {
            return Err(format!(
                "port {p} ({}) is a member of {}; forward to or from the bond",
                self.checked.ports[p].name, self.checked.bonds[b].name
            ));
        }
        Ok(i)
    }

    fn iface_text(&self, i: crate::config::Iface) -> String {
        match i {
            crate::config::Iface::Port(p) => format!("{} (port {p})", self.checked.ports[p].name),
            crate::config::Iface::Bond(b) => format!("{} (bond {b})", self.checked.bonds[b].name),
        }
    }

    fn add_forward(&mut self, from: &Target, to: &Target) -> Result<Reply, String> {
        let (a, z) = (self.iface(from)?, self.iface(to)?);
        if a == z {
            return Err(format!("{} cannot forward to itself", self.iface_text(a)));
        }
        if let Some(&(_, dst)) = self.checked.paths.iter().find(|&&(x, _)| x == a) {
            return Err(format!(
                "{} already forwards to {}; each has one destination (remove forward first)",
                self.iface_text(a),
                self.iface_text(dst)
            ));
        }
        let text = format!("{} -> {}", self.iface_text(a), self.iface_text(z));
        self.with_workers_stopped(|app| {
            app.checked.paths.push((a, z));
            Ok(format!("forwarding {text}"))
        })
    }

    fn remove_forward(&mut self, from: &Target, to: &Target) -> Result<Reply, String> {
        let (a, z) = (self.iface(from)?, self.iface(to)?);
        let Some(k) = self.checked.paths.iter().position(|&p| p == (a, z)) else {
            return Err(format!(
                "{} does not forward to {}",
                self.iface_text(a),
                self.iface_text(z)
            ));
        };
        let text = format!("{} -> {}", self.iface_text(a), self.iface_text(z));
        self.with_workers_stopped(|app| {
            app.checked.paths.remove(k);
            Ok(format!("no longer forwarding {text}"))
        })
    }

    fn show_fwd(&self, json: bool) -> Reply {
        let mode = self.plan.as_ref().map(|p| p.mode).unwrap_or_default();
        let paths = &self.checked.paths;
        if json {
            let v: Vec<_> = paths
                .iter()
                .map(|&(a, z)| {
                    serde_json::json!({
                        "from": self.checked.iface_name(a),
                        "to": self.checked.iface_name(z),
                    })
                })
                .collect();
            return Reply::ok(
                serde_json::json!({
                    "mode": mode.to_string(),
                    "forwarding": self.forwarding(),
                    "paths": v,
                })
                .to_string(),
            );
        }
        let mut out = format!(
            "{mode} packet forwarding{} - ports={} - bonds={} - workers={} - paths={}",
            if self.forwarding() { "" } else { " (stopped)" },
            self.ports.len(),
            self.bonds.len(),
            self.checked.worker_cores.len(),
            paths.len()
        );
        for &(a, z) in paths {
            let _ = write!(out, "\n  {} -> {}", self.iface_text(a), self.iface_text(z));
        }
        for (b, bond) in self.bonds.iter().enumerate() {
            let listens = bond.lacp.is_some()
                && !paths
                    .iter()
                    .any(|&(x, _)| x == crate::config::Iface::Bond(b));
            if listens {
                let _ = write!(
                    out,
                    "\n  {} -> (nothing: polled for its LACPDUs only)",
                    self.iface_text(crate::config::Iface::Bond(b))
                );
            }
        }
        Reply::ok(out)
    }

    fn add_member(&mut self, b: usize, i: usize) -> Result<Reply, String> {
        let spec = &self.checked.ports[i];
        if let Some(other) = spec.bond {
            return Err(format!(
                "port {i} ({}) is already a member of {}",
                spec.name, self.checked.bonds[other].name
            ));
        }
        if self
            .checked
            .paths
            .iter()
            .any(|&(x, y)| x == crate::config::Iface::Port(i) || y == crate::config::Iface::Port(i))
        {
            return Err(format!(
                "port {i} ({}) forwards traffic itself; a member must not be in a [[forward]]",
                spec.name
            ));
        }
        self.with_workers_stopped(|app| {
            // A plain port has no TX queue for the control thread: its frames go through
            // worker 0, whose relay ring is created on first need.
            if app.relay.is_none() {
                app.relay = Some(Arc::new(
                    dataplane::ring::Ring::create(
                        &format!("bondd_relay{}", std::process::id()),
                        1024,
                        dataplane::ring::Sync::SingleProducerSingleConsumer,
                    )
                    .map_err(|e| e.to_string())?,
                ));
            }
            app.ctrl_txq[i] = crate::appliance::ControlTx::Relay;
            let _ = app.ports[i].set_promiscuous(true);
            let perm_mac = app.ports[i].mac().unwrap_or_default();
            // A bond created empty takes its first member's address, as Linux does (unless
            // the member has none: ring ports have 00:00:00:00:00:00).
            if app.checked.bonds[b].random_mac && perm_mac != [0; 6] {
                app.checked.bonds[b].random_mac = false;
                let actions = app.bonds[b].adopt_mac(perm_mac);
                app.carry_out(b, actions);
            }
            let port = &app.ports[i];
            if app.bonds[b].opts.fail_over_mac == crate::options::FailOverMac::None {
                let _ = port.set_mac(app.bonds[b].ident.mac);
            }
            let name = app.checked.ports[i].name.clone();
            let init = crate::bond::MemberInit {
                name: name.clone(),
                port: port.id(),
                index: i as u16,
                perm_mac,
                link: port.link(),
            };
            let actions = app.bonds[b].add_member(init).map_err(|e| e.to_string())?;
            app.checked.ports[i].bond = Some(b);
            app.checked.bonds[b].members.push(i);
            app.carry_out(b, actions);
            Ok(format!("port {i} ({name}) added to {}", app.bonds[b].name))
        })
    }

    fn remove_member(&mut self, b: usize, name: &str) -> Result<Reply, String> {
        self.with_workers_stopped(|app| {
            let (m, actions) = app.bonds[b]
                .remove_member(name)
                .map_err(|e| e.to_string())?;
            let i = m.index as usize;
            app.checked.ports[i].bond = None;
            app.checked.bonds[b].members.retain(|&p| p != i);
            // Its last LACPDU goes out before the control thread gives up the port.
            app.carry_out(b, actions);
            app.ctrl_txq[i] = crate::appliance::ControlTx::None;
            let _ = app.ports[i].set_mac(m.perm_mac);
            Ok(format!(
                "port {i} ({name}) removed from {}",
                app.bonds[b].name
            ))
        })
    }

    fn member_name(&self, b: usize, t: &Target) -> Result<String, String> {
        let bond = &self.bonds[b];
        let name = match t {
            Target::Name(n) => n.clone(),
            Target::Index(i) => self
                .checked
                .ports
                .get(*i as usize)
                .map(|p| p.name.clone())
                .ok_or_else(|| format!("no port {i}"))?,
        };
        if bond.members.iter().any(|m| m.name == name) {
            Ok(name)
        } else {
            Err(format!(
                "bond {}: {name:?} is not a member (members: {})",
                bond.name,
                bond.members
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    }

    fn link(&mut self, port: &Target, up: bool) -> Result<Reply, String> {
        let i = self.port_index(port)?;
        let how = self.set_link(i, up).map_err(|e| e.to_string())?;
        Ok(Reply::ok(format!(
            "port {i} ({}): link {}{}",
            self.checked.ports[i].name,
            if up { "up" } else { "down" },
            if how == dataplane::port::LinkControl::Emulated {
                " (emulated: the PMD cannot force its link)"
            } else {
                ""
            }
        )))
    }

    fn port_json(&self, i: usize) -> serde_json::Value {
        let p = &self.ports[i];
        serde_json::json!({
            "port": i,
            "name": self.checked.ports[i].name,
            "device": self.checked.ports[i].device,
            "driver": p.info().map(|d| d.driver).unwrap_or_default(),
            "mac": mac_text(p.mac().unwrap_or_default()),
            "link": p.link(),
            "bond": self.checked.ports[i].bond.map(|b| self.checked.bonds[b].name.clone()),
            "rx_queues": p.rx_queues(),
            "tx_queues": p.tx_queues(),
        })
    }

    fn port_info_text(&self, i: usize) -> String {
        let p = &self.ports[i];
        let l = p.link();
        let spec = &self.checked.ports[i];
        let mut o = format!("\n********************* Infos for port {i}  *********************\n");
        let _ = writeln!(o, "MAC address: {}", mac_text(p.mac().unwrap_or_default()));
        let _ = writeln!(o, "Device name: {}", spec.device);
        let _ = writeln!(o, "Name: {}", spec.name);
        let _ = writeln!(
            o,
            "Driver name: {}",
            p.info().map(|d| d.driver).unwrap_or_default()
        );
        if let Some(b) = spec.bond {
            let _ = writeln!(o, "Member of: {}", self.checked.bonds[b].name);
        }
        let _ = writeln!(o, "Link status: {}", if l.up { "up" } else { "down" });
        let _ = writeln!(o, "Link speed: {}", speed_text(l.speed_mbps));
        let _ = writeln!(
            o,
            "Link duplex: {}",
            if l.full_duplex {
                "full-duplex"
            } else {
                "half-duplex"
            }
        );
        let _ = writeln!(
            o,
            "Promiscuous mode: {}",
            if spec.promiscuous || spec.bond.is_some() {
                "enabled"
            } else {
                "disabled"
            }
        );
        let _ = writeln!(o, "Current number of RX queues: {}", p.rx_queues());
        let _ = writeln!(o, "Current number of TX queues: {}", p.tx_queues());
        o
    }

    fn port_stats_text(&mut self, i: usize) -> String {
        let s = self.ports[i].stats().unwrap_or_default();
        let now = Instant::now();
        self.show.last.resize(self.ports.len(), None);
        let (rx_pps, tx_pps, rx_bps, tx_bps) = match self.show.last[i] {
            Some((t, prev)) => {
                let dt = now.duration_since(t).as_secs_f64().max(1e-9);
                (
                    s.rx_packets.saturating_sub(prev.rx_packets) as f64 / dt,
                    s.tx_packets.saturating_sub(prev.tx_packets) as f64 / dt,
                    s.rx_bytes.saturating_sub(prev.rx_bytes) as f64 * 8.0 / dt,
                    s.tx_bytes.saturating_sub(prev.tx_bytes) as f64 * 8.0 / dt,
                )
            }
            None => (0.0, 0.0, 0.0, 0.0),
        };
        self.show.last[i] = Some((now, s));
        let mut o = format!(
            "\n  ######################## NIC statistics for port {i}  ########################\n"
        );
        let _ = writeln!(
            o,
            "  RX-packets: {:<10} RX-missed: {:<10} RX-bytes:  {}",
            s.rx_packets, s.rx_missed, s.rx_bytes
        );
        let _ = writeln!(o, "  RX-errors: {}", s.rx_errors);
        let _ = writeln!(o, "  RX-nombuf:  {:<10}", s.rx_nombuf);
        let _ = writeln!(
            o,
            "  TX-packets: {:<10} TX-errors: {:<10} TX-bytes:  {}",
            s.tx_packets, s.tx_errors, s.tx_bytes
        );
        let _ = writeln!(o, "\n  Throughput (since last show)");
        let _ = writeln!(
            o,
            "  Rx-pps: {:>12.0}          Rx-bps: {:>12.0}",
            rx_pps, rx_bps
        );
        let _ = writeln!(
            o,
            "  Tx-pps: {:>12.0}          Tx-bps: {:>12.0}",
            tx_pps, tx_bps
        );
        let _ = writeln!(
            o,
            "  ############################################################################"
        );
        o
    }

    fn bond_config_text(&self, b: usize) -> String {
        let bond = &self.bonds[b];
        let d = bond.dist.get();
        let names: Vec<&str> = bond.members.iter().map(|m| m.name.as_str()).collect();
        let usable: Vec<&str> = d.usable[..d.n_usable as usize]
            .iter()
            .map(|&o| bond.members[o as usize].name.as_str())
            .collect();
        let mut o = String::new();
        let _ = writeln!(
            o,
            "\tBonding mode: {} ({})",
            bond.opts.mode.value(),
            bond.opts.mode
        );
        if matches!(bond.opts.mode, crate::options::Mode::BalanceXor) {
            let _ = writeln!(o, "\tBalance Xmit Policy: {}", bond.opts.xmit_hash_policy);
        }
        let _ = writeln!(o, "\tMembers ({}): [{}]", names.len(), names.join(" "));
        let _ = writeln!(
            o,
            "\tActive Members ({}): [{}]",
            usable.len(),
            usable.join(" ")
        );
        if let Some(p) = bond.primary {
            let _ = writeln!(o, "\tPrimary: [{}]", bond.members[p].name);
        }
        // Only where an active member means something to the operator (Linux shows it for
        // the modes that use a primary); balance-rr's active member only takes IGMP.
        if let Some(a) = bond.active
            && bond.opts.mode == crate::options::Mode::ActiveBackup
        {
            let _ = writeln!(o, "\tCurrent active: {}", bond.members[a].name);
        }
        let _ = writeln!(
            o,
            "\tMII polling interval: {} ms (updelay {} ms, downdelay {} ms)",
            bond.opts.miimon, bond.opts.updelay, bond.opts.downdelay
        );
        let _ = writeln!(o, "\tBond MAC: {}", mac_text(bond.ident.mac));
        let _ = write!(o, "\tCarrier: {}", if bond.carrier { "up" } else { "down" });
        o
    }
}

/// A random, locally administered unicast MAC (what Linux gives a new bond).
fn random_mac() -> [u8; 6] {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    let b = h.finish().to_le_bytes();
    [(b[0] & 0xfe) | 0x02, b[1], b[2], b[3], b[4], b[5]]
}

fn mac_text(m: [u8; 6]) -> String {
    MacAddr::from(m).to_string()
}

fn speed_text(mbps: u32) -> String {
    match mbps {
        0 => "unknown".into(),
        m if m % 1000 == 0 => format!("{} Gbps", m / 1000),
        m => format!("{m} Mbps"),
    }
}
