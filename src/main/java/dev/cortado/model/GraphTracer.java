package dev.cortado.model;

import dev.cortado.CortadoException;
import dev.cortado.onnx.Graph;
import dev.cortado.onnx.Node;
import dev.cortado.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Learns which initializer is which weight by following the data flow of an exported graph (exporters rename
 * weights, e.g. {@code onnx::MatMul_389}, and store them transposed). Finds linear layers (MatMul/Gemm with a
 * constant weight, plus bias Add), norms (LayerNormalization or the decomposed ReduceMean/Pow/Sqrt/Div patterns
 * of LayerNorm and RMSNorm) and the attention structure around them.
 */
public final class GraphTracer {
    private static final Set<String> PASS = Set.of("Identity", "Cast");

    private final Graph graph;

    public GraphTracer(Graph graph) {
        this.graph = graph;
    }

    public Graph graph() {
        return graph;
    }

    /** A constant reached from a value: the tensor and whether a 2-D Transpose sits in between. */
    public record Const(String name, Tensor tensor, boolean transposed) {}

    /**
     * A linear layer: y = x · W (+ b). {@code weight.transposed} means the stored tensor is [out, in]. A quantized linear
     * ({@link QuantizedLinears}) has no {@code weight} but {@code nbits} (MatMulNBits) or {@code int8} (MatMulInteger).
     */
    public record LinearOp(Node node, String input, String output, Const weight, Const bias,
                           dev.cortado.tensor.QuantizedMatrix nbits, dev.cortado.tensor.Int8Matrix int8) {
        public LinearOp(Node node, String input, String output, Const weight, Const bias) {
            this(node, input, output, weight, bias, null, null);
        }

        /** Whether the weight is quantized (no float {@link #weight}). */
        public boolean quantized() {
            return nbits != null || int8 != null;
        }
    }

    /** A norm: kind, gamma, beta (null for RMS or bias-free), eps, and its input/output values. */
    public record NormOp(boolean rms, Const gamma, Const beta, float eps, String input, String output, Node last) {}

    /** The constant behind a value (initializer or Constant node, through Identity/Cast/2-D Transpose), or null. */
    public Const constant(String value) {
        boolean transposed = false;
        for (int guard = 0; guard < 8 && value != null && !value.isEmpty(); guard++) {
            Tensor t = graph.initializers().get(value);
            if (t != null) return new Const(value, t, transposed);
            Node p = graph.producer(value);
            if (p == null) return null;
            switch (p.opType()) {
                case "Constant" -> {
                    Tensor c = p.attrTensor("value");
                    return c == null ? null : new Const(value, c, transposed);
                }
                case "Transpose" -> {
                    long[] perm = p.attrInts("perm");
                    if (perm != null && !Arrays.equals(perm, new long[] {1, 0})) return null;
                    transposed = !transposed;
                    value = p.input(0);
                }
                default -> {
                    if (!PASS.contains(p.opType())) return null;
                    value = p.input(0);
                }
            }
        }
        return null;
    }

    /** All linear layers in node order. */
    public List<LinearOp> linears() {
        List<LinearOp> out = new ArrayList<>();
        for (Node n : graph.nodes()) {
            if (n.opType().equals("MatMul")) {
                Const w = constant(n.input(1));
                if (w == null || w.tensor().rank() != 2 || constant(n.input(0)) != null) continue;
                out.add(withBias(n, n.input(0), w));
            } else if (n.opType().equals("Gemm")) {
                Const w = constant(n.input(1));
                if (w == null || w.tensor().rank() != 2) continue;
                boolean tb = n.attrInt("transB", 0) == 1;
                Const wc = new Const(w.name(), w.tensor(), w.transposed() ^ tb);
                Const b = n.inputs().size() > 2 ? constant(n.input(2)) : null;
                out.add(new LinearOp(n, n.input(0), n.output(0), wc, b));
            } else if (n.opType().equals("MatMulNBits")) {
                out.add(QuantizedLinears.matMulNBits(this, n));
            } else if (n.opType().equals("MatMulInteger")) {
                out.add(QuantizedLinears.matMulInteger(this, n));
            }
        }
        return out;
    }

    private LinearOp withBias(Node mm, String input, Const w) {
        List<Node> cs = graph.consumers(mm.output(0));
        if (cs.size() == 1 && cs.getFirst().opType().equals("Add")) {
            Node add = cs.getFirst();
            String other = add.input(0).equals(mm.output(0)) ? add.input(1) : add.input(0);
            Const b = constant(other);
            if (b != null && (b.tensor().rank() == 1 || b.tensor().rank() == 2 && b.tensor().dim(0) == 1)) {
                return new LinearOp(mm, input, add.output(0), w, b);
            }
        }
        return new LinearOp(mm, input, mm.output(0), w, null);
    }

    /** All norms in node order. */
    public List<NormOp> norms() {
        List<NormOp> out = new ArrayList<>();
        for (Node n : graph.nodes()) {
            switch (n.opType()) {
                case "LayerNormalization" -> out.add(new NormOp(false, scale(n),
                        n.inputs().size() > 2 ? constant(n.input(2)) : null, n.attrFloat("epsilon", 1e-5f),
                        n.input(0), n.output(0), n));
                case "SimplifiedLayerNormalization", "RMSNormalization" -> out.add(new NormOp(true, scale(n),
                        null, n.attrFloat("epsilon", 1e-6f), n.input(0), n.output(0), n));
                case "ReduceMean" -> {
                    NormOp op = decomposedNorm(n);
                    if (op != null) out.add(op);
                }
                default -> { }
            }
        }
        return out;
    }

    /** A norm node's scale (input 1), which Cortado's engine needs as a constant. */
    private Const scale(Node n) {
        Const g = n.inputs().size() > 1 ? constant(n.input(1)) : null;
        if (g == null) {
            throw new CortadoException(n.opType() + " node '" + n.name() + "': its scale input is not a constant initializer, so Cortado's "
                    + "engine cannot trace this graph (try --engine ort)");
        }
        return g;
    }

    /** ReduceMean(Pow(d, 2)) → Add(eps) → Sqrt → Div/Reciprocal → Mul(gamma) [→ Add(beta)]. */
    private NormOp decomposedNorm(Node reduce) {
        Node pow = graph.producer(reduce.input(0));
        if (pow == null || !(pow.opType().equals("Pow") || pow.opType().equals("Mul"))) return null;
        String d = pow.input(0);
        Node sub = graph.producer(d);
        boolean rms = true;
        String input = d;
        if (sub != null && sub.opType().equals("Sub")) {
            Node mean = graph.producer(sub.input(1));
            if (mean != null && mean.opType().equals("ReduceMean") && mean.input(0).equals(sub.input(0))) {
                rms = false;
                input = sub.input(0);
            }
        }
        float eps = Float.NaN;
        // walk forward to the Mul by gamma
        ArrayDeque<String> queue = new ArrayDeque<>(List.of(reduce.output(0)));
        Set<String> seen = new HashSet<>();
        for (int steps = 0; !queue.isEmpty() && steps < 16; steps++) {
            String v = queue.poll();
            if (!seen.add(v)) continue;
            for (Node c : graph.consumers(v)) {
                switch (c.opType()) {
                    case "Add" -> {
                        Const e = constant(other(c, v));
                        if (e != null && e.tensor().numel() == 1) eps = e.tensor().getFloat(0);
                        queue.add(c.output(0));
                    }
                    case "Sqrt", "Reciprocal", "Cast", "Div" -> queue.add(c.output(0));
                    case "Mul" -> {
                        Const g = constant(other(c, v));
                        if (g != null && g.tensor().rank() == 1 && g.tensor().numel() > 1) {
                            return finish(rms, g, eps, input, c);
                        }
                        queue.add(c.output(0));
                    }
                    default -> { }
                }
            }
        }
        return null;
    }

    private NormOp finish(boolean rms, Const gamma, float eps, String input, Node mul) {
        List<Node> cs = graph.consumers(mul.output(0));
        if (cs.size() == 1 && cs.getFirst().opType().equals("Add")) {
            Const b = constant(other(cs.getFirst(), mul.output(0)));
            if (b != null && b.tensor().rank() == 1) {
                return new NormOp(rms, gamma, b, Float.isNaN(eps) ? 1e-5f : eps, input, cs.getFirst().output(0), cs.getFirst());
            }
        }
        return new NormOp(rms, gamma, null, Float.isNaN(eps) ? 1e-5f : eps, input, mul.output(0), mul);
    }

    private static String other(Node n, String v) {
        return n.input(0).equals(v) ? n.input(1) : n.input(0);
    }

    /**
     * Follows a value forward (through any op but MatMul, up to {@code depth} steps) to the first MatMul
     * that has no constant input; returns {matmulNodeIndex, inputIndex} or null.
     */
    public int[] reachesMatMul(String value, int depth) {
        ArrayDeque<String> queue = new ArrayDeque<>(List.of(value));
        Set<String> seen = new HashSet<>();
        for (int steps = 0; !queue.isEmpty() && steps < depth * 4; steps++) {
            String v = queue.poll();
            if (!seen.add(v)) continue;
            for (Node c : graph.consumers(v)) {
                if (c.opType().equals("MatMul")) {
                    if (constant(c.input(0)) == null && constant(c.input(1)) == null) {
                        return new int[] {graph.nodes().indexOf(c), c.inputs().indexOf(v)};
                    }
                    continue;
                }
                for (String o : c.outputs()) queue.add(o);
            }
        }
        return null;
    }

    /** Whether any node of the given type lies on a path from value to target (bounded search). */
    public boolean opBetween(String from, String to, Set<String> ops) {
        ArrayDeque<String> queue = new ArrayDeque<>(List.of(from));
        Set<String> seen = new HashSet<>();
        boolean found = false;
        while (!queue.isEmpty() && seen.size() < 200) {
            String v = queue.poll();
            if (!seen.add(v) || v.equals(to)) continue;
            for (Node c : graph.consumers(v)) {
                if (ops.contains(c.opType())) found = true;
                for (String o : c.outputs()) queue.add(o);
            }
        }
        return found;
    }

    /** The graph input a value derives from through Cast/Reshape/Unsqueeze-like chains (first inputs), or null. */
    public String rootInput(String v) {
        for (int i = 0; i < 8 && v != null; i++) {
            if (graph.inputNames().contains(v)) return v;
            Node p = graph.producer(v);
            if (p == null || p.inputs().isEmpty()) return null;
            v = p.input(0);
        }
        return null;
    }

    /**
     * Orders three projections as q, k, v by where they enter the attention MatMuls: q and k meet in the scores
     * MatMul (q as its first input), v enters the later context MatMul.
     */
    public LinearOp[] orderQkv(List<LinearOp> three) {
        LinearOp q = null, k = null, v = null;
        int[][] hits = new int[3][];
        int scores = Integer.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            hits[i] = reachesMatMul(three.get(i).output(), 24);
            if (hits[i] == null) throw new dev.cortado.CortadoException("cannot trace the attention projections");
            scores = Math.min(scores, hits[i][0]);
        }
        for (int i = 0; i < 3; i++) {
            if (hits[i][0] != scores) v = three.get(i);
            else if (hits[i][1] == 0) q = three.get(i);
            else k = three.get(i);
        }
        if (q == null || k == null || v == null) throw new dev.cortado.CortadoException("cannot tell q/k/v projections apart");
        return new LinearOp[] {q, k, v};
    }

    /** Ops used by the graph, for "unsupported op" checks. */
    public Set<String> opTypes() {
        Set<String> s = new java.util.TreeSet<>();
        for (Node n : graph.nodes()) s.add(n.domain() == null || n.domain().isEmpty() ? n.opType() : n.domain() + "." + n.opType());
        return s;
    }
}
