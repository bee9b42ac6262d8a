#!/usr/bin/env python3
"""Rank the slow paths of a Yosys ECP5 netlist before nextpnr can route it.

    python3 scripts/rank_paths.py NETLIST.json [--top mtn_board_top] [--mhz 60]
        [--net-ns 1.6] [--groups 30] [--path SUBSTRING] [--cut REGEX]

nextpnr-ecp5 prints a critical path only after routing, and routing a chip the size of
`small` on the 85F takes hours in YoWASP's single-threaded nextpnr. This script reads the
netlist the flow writes (`netlist.json` in a `metronome synth` work directory) and computes
each flip-flop's, block RAM's and output's latest arrival with a fixed delay per cell and per
net, then prints the endpoints over the requested period grouped by name (bit and instance
numbers folded), each with where its slowest path starts.

It is a model, not a measurement: the cell delays are rounded ECP5 speed-6 figures and every
net between slices costs `--net-ns`. With 1.6 ns a net it put `small`'s board top (`1de7e0d`
with the permute fix) at 32.2 MHz where nextpnr's estimate after placement was 31.5 MHz; use
it to rank and compare paths, and nextpnr's report for any number quoted as Fmax.

`--path` prints the slowest path into the first endpoint whose name contains SUBSTRING;
`--cut` treats the nets whose names match REGEX as registered (what-if: where a register on
those nets would move the worst path).
"""

import argparse
import collections
import json
import re

LUT_NS = 0.35
MUX_NS = 0.25  # PFUMX / L6MUX21, fed from its own slice
CARRY_NS = 0.06  # CIN -> COUT along a CCU2C chain
CARRY_IN_NS = 0.4  # an operand into the chain
CARRY_SUM_NS = 0.3  # CIN -> a sum
OPERAND_SUM_NS = 0.45  # an operand -> its sum
FF_CLK_TO_Q_NS = 0.5
FF_SETUP_NS = 0.15
BRAM_CLK_TO_Q_NS = 4.0  # DP16KD without its output register
BRAM_SETUP_NS = 0.3
MULT_NS = 4.0  # MULT18X18D without its registers
CLOCKS = {"CLK0", "CLK1", "CLK2", "CLK3", "CE0", "CE1", "CE2", "CE3", "RST0", "RST1", "RST2", "RST3"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("netlist")
    ap.add_argument("--top", default="mtn_board_top")
    ap.add_argument("--mhz", type=float, default=60.0)
    ap.add_argument("--net-ns", type=float, default=1.6)
    ap.add_argument("--groups", type=int, default=30)
    ap.add_argument("--path")
    ap.add_argument("--cut")
    a = ap.parse_args()
    with open(a.netlist) as f:
        module = json.load(f)["modules"][a.top]
    timing = Timing(module, a.net_ns, a.cut)
    period = 1000.0 / a.mhz
    ends = timing.endpoints()
    worst = ends[0][0]
    over = sum(1 for t, _ in ends if t > period)
    print(f"worst {worst:.2f} ns ({1000 / worst:.1f} MHz, modelled); "
          f"{over} endpoints over {period:.2f} ns ({a.mhz:g} MHz)")
    groups = collections.OrderedDict()
    for t, bit in ends:
        if t <= period or len(groups) >= a.groups and timing.group(bit) not in groups:
            continue
        g = groups.setdefault(timing.group(bit), [t, 0, bit])
        g[1] += 1
    for name, (t, count, bit) in groups.items():
        path = timing.path(bit)
        print(f"{t:6.2f} ns {count:5d} ends  {name[:72]:72s} from {timing.name(path[0])[:60]}")
    if a.path:
        bit = next((b for _, b in ends if a.path in timing.name(b)), None)
        if bit is None:
            raise SystemExit(f"no endpoint's name contains {a.path!r}")
        for b in timing.path(bit):
            print(f"  {timing.arrival[b]:6.2f}  {timing.name(b)[:110]}")


class Timing:
    def __init__(self, m, net_ns, cut):
        self.names = {}
        for n, v in m["netnames"].items():
            for i, b in enumerate(v["bits"]):
                named = self.names.get(b)
                if isinstance(b, int) and (named is None or named[0].startswith("$") and not n.startswith("$")):
                    self.names[b] = (n, i)
        self.arcs = collections.defaultdict(list)  # input bit -> [(output bit, delay)]
        self.start = {}  # bit -> launch time
        self.setup = {}  # endpoint bit -> setup time
        for c in m["cells"].values():
            self.add_cell(c, net_ns)
        for p in m["ports"].values():
            if p["direction"] == "output":
                for b in bits_of(p["bits"]):
                    self.setup[b] = 0.0
        if cut:
            rx = re.compile(cut)
            cutting = {b for n, v in m["netnames"].items() if rx.search(n) for b in bits_of(v["bits"])}
            for b in list(self.arcs):
                self.arcs[b] = [(o, d) for o, d in self.arcs[b] if o not in cutting]
            for b in cutting:
                self.setup[b] = FF_SETUP_NS
                self.start[b] = FF_CLK_TO_Q_NS
        self.propagate(net_ns)

    def add_cell(self, c, net_ns):
        kind, conn = c["type"], c["connections"]
        ins = [p for p, d in c["port_directions"].items() if d == "input"]
        outs = [p for p, d in c["port_directions"].items() if d == "output"]
        pins = lambda p: bits_of(conn.get(p, []))

        def arc(p, delay, to):
            for b in pins(p):
                self.arcs[b] += [(o, delay) for q in to for o in pins(q)]

        if kind == "LUT4":
            for p in ins:
                arc(p, LUT_NS, ["Z"])
        elif kind in ("PFUMX", "L6MUX21"):
            # ALUT/BLUT and D0/D1 come from the slice itself: no net.
            for p in ins:
                arc(p, MUX_NS - (0 if p in ("C0", "SD") else net_ns), ["Z"])
        elif kind == "CCU2C":
            for p in ins:
                if p == "CIN":  # the chain's own wire
                    arc(p, CARRY_NS - net_ns, ["COUT"])
                    arc(p, CARRY_SUM_NS - net_ns, ["S0", "S1"])
                else:
                    arc(p, CARRY_IN_NS, ["COUT"])
                    arc(p, OPERAND_SUM_NS, ["S0", "S1"])
        elif kind == "MULT18X18D":
            for p in ins:
                if p not in CLOCKS:
                    arc(p, MULT_NS, outs)
        elif kind == "TRELLIS_FF":
            for b in pins("Q"):
                self.start[b] = FF_CLK_TO_Q_NS
            for p in ("DI", "M", "CE", "LSR"):
                for b in pins(p):
                    self.setup[b] = FF_SETUP_NS
        elif kind == "DP16KD":
            for q in outs:
                for b in pins(q):
                    self.start[b] = BRAM_CLK_TO_Q_NS
            for p in ins:
                if not p.startswith("CLK"):
                    for b in pins(p):
                        self.setup[b] = BRAM_SETUP_NS
        else:  # IO, PLL: launch at 0, end nowhere
            for q in outs:
                for b in pins(q):
                    self.start[b] = 0.0

    def propagate(self, net_ns):
        fanin = collections.Counter(o for arcs in self.arcs.values() for o, _ in arcs)
        every = set(self.arcs) | set(fanin) | set(self.start) | set(self.setup)
        self.arrival, self.prev = {}, {}
        ready = collections.deque()
        for b in every:
            if fanin[b] == 0:
                self.arrival[b] = self.start.get(b, 0.0)
                ready.append(b)
        while ready:
            b = ready.popleft()
            for o, delay in self.arcs.get(b, []):
                t = self.arrival[b] + delay + net_ns
                if t > self.arrival.get(o, -1.0):
                    self.arrival[o], self.prev[o] = t, b
                fanin[o] -= 1
                if fanin[o] == 0:
                    ready.append(o)
        looped = sum(1 for b in every if fanin[b] > 0)
        if looped:
            print(f"warning: {looped} bits on combinational loops are left out")
        self.net_ns = net_ns

    def endpoints(self):
        ends = [(self.arrival[b] + self.net_ns + s, b) for b, s in self.setup.items() if b in self.arrival]
        return sorted(ends, reverse=True)

    def path(self, bit):
        chain = [bit]
        while chain[-1] in self.prev:
            chain.append(self.prev[chain[-1]])
        return chain[::-1]

    def name(self, bit):
        n, i = self.names.get(bit, ("?", 0))
        return f"{n}[{i}]"

    def group(self, bit):
        return re.sub(r"\[\d+\]", "", re.sub(r"\d+", "#", self.name(bit)))


def bits_of(bits):
    return [b for b in bits if isinstance(b, int)]


if __name__ == "__main__":
    main()
