//! Routes between chips. Every route is fixed by the topology, so a transfer's hops and the
//! cycles it spends on each link are known before the program runs.
//!
//! Dragonfly wiring: the global link between groups `a` and `b` leaves group `a` from its local
//! chip `gateway(a, b) = (b - 1 if b > a else b) mod group_size`, so a group spreads its
//! `groups - 1` global links round-robin over its chips. A route is: local hop to the gateway
//! (if the source is not it), the global hop, local hop from the far gateway to the destination
//! (if it is not the gateway): at most three hops.

use crate::config::{SystemConfig, Topology};

/// A directed link from one chip to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Link {
    pub from: u32,
    pub to: u32,
}

impl std::fmt::Display for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "link {}->{}", self.from, self.to)
    }
}

impl SystemConfig {
    /// The hops from `src` to `dst` in order; empty when `src == dst`.
    /// Both must be `< chips` (the config is validated, the caller checks the ids).
    pub fn route(&self, src: u32, dst: u32) -> Vec<Link> {
        let mut path = Vec::new();
        let mut at = src;
        while at != dst {
            let next = self.next_hop(at, dst);
            path.push(Link { from: at, to: next });
            at = next;
        }
        path
    }

    fn next_hop(&self, at: u32, dst: u32) -> u32 {
        let k = self.chips;
        match self.topology {
            Topology::Single => unreachable!("a single chip has no route to another chip"),
            Topology::Ring => {
                let forward = (dst + k - at) % k;
                if forward <= k - forward {
                    (at + 1) % k
                } else {
                    (at + k - 1) % k
                }
            }
            Topology::Mesh { cols, .. } => {
                let (ar, ac) = (at / cols, at % cols);
                let (dr, dc) = (dst / cols, dst % cols);
                if ac != dc {
                    let c = if dc > ac { ac + 1 } else { ac - 1 };
                    ar * cols + c
                } else {
                    let r = if dr > ar { ar + 1 } else { ar - 1 };
                    r * cols + ac
                }
            }
            Topology::Dragonfly { group_size, .. } => {
                let (ag, dg) = (at / group_size, dst / group_size);
                if ag == dg {
                    return dst;
                }
                let gate = ag * group_size + gateway(ag, dg, group_size);
                if at != gate {
                    gate
                } else {
                    dg * group_size + gateway(dg, ag, group_size)
                }
            }
        }
    }

    /// Every directed link of the system, sorted.
    pub fn links(&self) -> Vec<Link> {
        let mut links = Vec::new();
        for a in 0..self.chips {
            for b in 0..self.chips {
                if a != b && self.route(a, b).len() == 1 {
                    links.push(Link { from: a, to: b });
                }
            }
        }
        links
    }

    /// The largest hop count between any two chips (0 for a single chip).
    pub fn diameter(&self) -> u32 {
        match self.topology {
            Topology::Single => 0,
            Topology::Ring => self.chips / 2,
            Topology::Mesh { rows, cols } => rows - 1 + cols - 1,
            // At most 64 chips: walking every route is cheap enough.
            Topology::Dragonfly { .. } => (0..self.chips)
                .flat_map(|a| (0..self.chips).map(move |b| (a, b)))
                .map(|(a, b)| self.route(a, b).len() as u32)
                .max()
                .unwrap_or(0),
        }
    }
}

fn gateway(group: u32, other: u32, group_size: u32) -> u32 {
    let slot = if other > group { other - 1 } else { other };
    slot % group_size
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system(chips: u32, topology: Topology) -> SystemConfig {
        SystemConfig {
            chips,
            topology,
            link_latency: 1,
        }
    }

    fn check_routes_are_connected_walks(s: &SystemConfig) {
        let links = s.links();
        for a in 0..s.chips {
            for b in 0..s.chips {
                let r = s.route(a, b);
                let mut at = a;
                for hop in &r {
                    assert_eq!(hop.from, at);
                    assert!(links.contains(hop), "{hop} is not a link");
                    at = hop.to;
                }
                assert_eq!(at, b);
            }
        }
    }

    #[test]
    fn closed_form_diameters_match_the_routes() {
        let systems = [
            system(2, Topology::Ring),
            system(5, Topology::Ring),
            system(8, Topology::Ring),
            system(6, Topology::Mesh { rows: 2, cols: 3 }),
            system(16, Topology::Mesh { rows: 4, cols: 4 }),
            system(7, Topology::Mesh { rows: 1, cols: 7 }),
        ];
        for s in systems {
            let walked = (0..s.chips)
                .flat_map(|a| (0..s.chips).map(move |b| (a, b)))
                .map(|(a, b)| s.route(a, b).len() as u32)
                .max()
                .unwrap();
            assert_eq!(s.diameter(), walked, "{:?}", s.topology);
        }
    }

    #[test]
    fn ring_takes_the_short_way() {
        let s = system(4, Topology::Ring);
        assert_eq!(s.route(0, 1), vec![Link { from: 0, to: 1 }]);
        assert_eq!(s.route(0, 3), vec![Link { from: 0, to: 3 }]);
        assert_eq!(s.route(0, 2).len(), 2);
        assert_eq!(
            s.route(0, 2)[0],
            Link { from: 0, to: 1 },
            "tie goes forward"
        );
        assert_eq!(s.diameter(), 2);
        assert_eq!(s.links().len(), 8);
        check_routes_are_connected_walks(&s);
        let two = system(2, Topology::Ring);
        assert_eq!(two.links().len(), 2);
    }

    #[test]
    fn mesh_routes_x_then_y() {
        let s = system(6, Topology::Mesh { rows: 2, cols: 3 });
        // 0 1 2
        // 3 4 5
        let hops: Vec<u32> = s.route(0, 5).iter().map(|l| l.to).collect();
        assert_eq!(hops, vec![1, 2, 5]);
        assert_eq!(s.diameter(), 3);
        // 2x3 mesh: 7 undirected edges.
        assert_eq!(s.links().len(), 14);
        check_routes_are_connected_walks(&s);
    }

    #[test]
    fn dragonfly_has_one_global_link_per_group_pair() {
        let s = system(
            6,
            Topology::Dragonfly {
                groups: 3,
                group_size: 2,
            },
        );
        let global: Vec<Link> = s
            .links()
            .into_iter()
            .filter(|l| l.from / 2 != l.to / 2)
            .collect();
        // 3 group pairs, each one bidirectional link.
        assert_eq!(global.len(), 6);
        assert!(s.diameter() <= 3);
        check_routes_are_connected_walks(&s);
    }
}
