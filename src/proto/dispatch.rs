//! Routes flow events to the protocol state machines and collects what they produce.
//!
//! UDP flows are classified by port (WAP: 9200/2948 connectionless WSP, 9201/2949 WTP,
//! 9202/9203/2950/2951 WTLS); TCP flows by their first bytes, on any port (HTTP request or status
//! line, TLS record). A flow that is none of these is ignored: the flow table stops copying its
//! bytes.

use crate::diag::Diagnostic;
use crate::flow::event::{FlowEvent, FlowId, FlowInfo, FlowSink, Verdict};
use crate::flow::key::IpProtocol;
use crate::proto::wsp::session::{
    WapLimits, WapPortRole, WapSessions, WspExchange, WtlsFlow, classify_ports,
};
use std::collections::HashMap;

/// Settings of the protocol stage.
#[derive(Debug, Clone, Default)]
pub struct ProtoConfig {
    pub wap: WapLimits,
}

/// What one input's protocol stage produced, with the flows it came from.
#[derive(Debug, Default)]
pub struct ProtoOutput {
    pub wsp: Vec<WspExchange>,
    pub wtls: Vec<WtlsFlow>,
    /// Every flow that produced something, by id.
    pub flows: HashMap<u64, FlowInfo>,
    pub diagnostics: Vec<Diagnostic>,
}

enum FlowProto {
    Wap(WapPortRole),
}

/// The [`FlowSink`] of one input.
pub struct Dispatcher {
    flows: HashMap<FlowId, FlowProto>,
    infos: HashMap<u64, FlowInfo>,
    wap: WapSessions,
    out: ProtoOutput,
}

impl Dispatcher {
    pub fn new(config: &ProtoConfig) -> Self {
        Dispatcher {
            flows: HashMap::new(),
            infos: HashMap::new(),
            wap: WapSessions::new(config.wap),
            out: ProtoOutput::default(),
        }
    }

    fn collect_wap(&mut self) {
        let produced = self.wap.take_output();
        self.keep(produced);
    }

    fn keep(&mut self, produced: crate::proto::wsp::session::WapOutput) {
        for ex in &produced.exchanges {
            if let Some(info) = self.infos.get(&ex.flow_id) {
                self.out.flows.insert(ex.flow_id, info.clone());
            }
        }
        for w in &produced.wtls_flows {
            if let Some(info) = self.infos.get(&w.flow_id) {
                self.out.flows.insert(w.flow_id, info.clone());
            }
        }
        self.out.wsp.extend(produced.exchanges);
        self.out.wtls.extend(produced.wtls_flows);
    }

    /// Ends every flow and returns what was produced.
    pub fn finish(mut self) -> ProtoOutput {
        let produced = self.wap.finish(&mut self.out.diagnostics);
        self.keep(produced);
        self.out
    }
}

impl FlowSink for Dispatcher {
    fn event(&mut self, ev: FlowEvent<'_>) -> Verdict {
        match ev {
            FlowEvent::Open { flow, info } => {
                let proto = match info.protocol {
                    IpProtocol::Udp => {
                        classify_ports(info.server.port(), info.client.port()).map(FlowProto::Wap)
                    }
                    IpProtocol::Tcp => None,
                };
                match proto {
                    Some(p) => {
                        self.flows.insert(flow, p);
                        self.infos.insert(flow.0, info.clone());
                        Verdict::Continue
                    }
                    None => Verdict::Ignore,
                }
            }
            FlowEvent::Datagram {
                flow,
                dir,
                bytes,
                frame,
                ts,
                ..
            } => match self.flows.get(&flow) {
                Some(FlowProto::Wap(role)) => {
                    let role = *role;
                    self.wap.on_datagram(
                        flow.0,
                        dir,
                        role,
                        bytes,
                        frame,
                        ts,
                        &mut self.out.diagnostics,
                    );
                    self.collect_wap();
                    Verdict::Continue
                }
                None => Verdict::Ignore,
            },
            FlowEvent::Data { flow, .. } | FlowEvent::Gap { flow, .. } => {
                if self.flows.contains_key(&flow) {
                    Verdict::Continue
                } else {
                    Verdict::Ignore
                }
            }
            FlowEvent::Close { flow, dir, ts, .. } => {
                if dir.is_none()
                    && let Some(FlowProto::Wap(_)) = self.flows.remove(&flow)
                {
                    self.wap.end_flow(flow.0, ts, &mut self.out.diagnostics);
                    self.collect_wap();
                    if !self.out.flows.contains_key(&flow.0) {
                        self.infos.remove(&flow.0);
                    }
                }
                Verdict::Continue
            }
        }
    }
}
