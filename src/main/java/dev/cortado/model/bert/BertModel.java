package dev.cortado.model.bert;

import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.backend.Backend.Activation;
import dev.cortado.engine.EncoderRunner;
import dev.cortado.layers.Attention;
import dev.cortado.layers.Embeddings;
import dev.cortado.layers.EncoderLayer;
import dev.cortado.layers.Mlp;
import dev.cortado.layers.TransformerEncoder;
import dev.cortado.layers.Linear;
import dev.cortado.model.ConfigCheck;
import dev.cortado.model.GraphTracer;
import dev.cortado.model.QuantizedLinears;
import dev.cortado.model.TensorCheck;
import dev.cortado.model.GraphTracer.LinearOp;
import dev.cortado.model.GraphTracer.NormOp;
import dev.cortado.model.Weights;
import dev.cortado.onnx.Graph;
import dev.cortado.onnx.Node;
import dev.cortado.onnx.OnnxModel;
import dev.cortado.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The BERT family (BERT, MiniLM, BGE; sentence-transformers and Optimum exports): a post-norm encoder with
 * learned positions and token types. The weight map is learned by tracing the ONNX graph; the forward pass is
 * the shared {@link TransformerEncoder}.
 */
public final class BertModel implements EncoderRunner {
    /** Ops a BERT export may contain; anything else is reported by name. */
    static final Set<String> KNOWN_OPS = Set.of("Add", "Cast", "Concat", "Constant", "ConstantOfShape", "Div", "Equal",
            "Erf", "Expand", "Gather", "Gemm", "Identity", "LayerNormalization", "MatMul", "Mul", "Pow", "Range",
            "ReduceMean", "Reshape", "Shape", "Slice", "Softmax", "Sqrt", "Squeeze", "Sub", "Tanh", "Transpose",
            "Unsqueeze", "Where", "Not", "Neg", "Less", "Greater", "Relu", "Sigmoid", "Reciprocal", "Min", "Max",
            // int8 exports (onnxruntime quantize_dynamic, e.g. the langchain4j MiniLM-q): see QuantizedLinears
            "DynamicQuantizeLinear", "MatMulInteger", "DequantizeLinear");

    private final Backend backend;
    private final TransformerEncoder encoder;
    private final int hidden, heads, layers, maxPositions;
    private final Activation activation;
    private final String quantized;

    private BertModel(Backend backend, TransformerEncoder encoder, int hidden, int heads, int layers, int maxPositions,
                      Activation activation, String quantized) {
        this.quantized = quantized;
        this.backend = backend;
        this.encoder = encoder;
        this.hidden = hidden;
        this.heads = heads;
        this.layers = layers;
        this.maxPositions = maxPositions;
        this.activation = activation;
    }

    public static BertModel load(OnnxModel model, Backend be) {
        Graph g = model.graph();
        Path file = model.path().getFileName();
        Set<String> unknown = new TreeSet<>();
        for (Node n : g.nodes()) if (!KNOWN_OPS.contains(n.opType()) || !(n.domain() == null || n.domain().isEmpty())) unknown.add(n.opType());
        if (!unknown.isEmpty()) {
            throw new CortadoException("unsupported op" + (unknown.size() > 1 ? "s " : " ") + String.join(", ", unknown)
                    + " in " + file + ": Cortado's engine cannot run this graph (try --engine ort)");
        }
        GraphTracer t = new GraphTracer(g);
        Tensor word = null, pos = null, type = null;
        for (Node n : g.nodes()) {
            if (!n.opType().equals("Gather")) continue;
            GraphTracer.Const table = t.constant(n.input(0));
            if (table == null || table.tensor().rank() != 2) continue;
            Tensor tab = QuantizedLinears.gatheredTable(t, n, table.tensor());
            String src = t.rootInput(n.input(1));
            if ("input_ids".equals(src)) word = tab;
            else if ("token_type_ids".equals(src)) type = tab;
            else pos = tab;
        }
        if (word == null) throw new CortadoException("not a BERT-style encoder: " + file + " has no token embedding Gather on input_ids");
        List<NormOp> norms = t.norms();
        List<LinearOp> lin = t.linears();
        int nLayers = lin.size() / 6;
        if (nLayers == 0 || lin.size() != 6 * nLayers || norms.size() != 1 + 2 * nLayers) {
            throw new CortadoException("not a BERT-style encoder: " + file + " has " + lin.size() + " linear layers and "
                    + norms.size() + " norms (expected 6 and 2 per layer plus an embedding norm)");
        }
        String src = model.path().toString();
        TensorCheck.shape(src, "word embedding", word, -1, -1);
        if (word.dim(1) > ConfigCheck.MAX_DIM) throw new CortadoException(src + ": word embedding width " + word.dim(1) + " exceeds " + ConfigCheck.MAX_DIM);
        int hidden = (int) word.dim(1);
        int heads = headsFromGraph(g, t, lin.get(0), lin.get(1), lin.get(2), hidden);
        int headDim = hidden / heads;
        Activation act = t.opBetween(lin.get(4).output(), lin.get(5).input(), Set.of("Erf")) ? Activation.GELU_ERF
                : t.opBetween(lin.get(4).output(), lin.get(5).input(), Set.of("Tanh")) ? Activation.GELU_TANH : Activation.RELU;
        List<EncoderLayer> layers = new ArrayList<>();
        for (int l = 0; l < nLayers; l++) {
            LinearOp[] qkv = t.orderQkv(lin.subList(6 * l, 6 * l + 3));
            // q|k|v concatenated at load: one GEMM
            Linear fused = Weights.fusedLinear(be, List.of(qkv[0], qkv[1], qkv[2]), src, new long[] {hidden, hidden, hidden}, hidden);
            Attention attn = fused != null
                    ? Attention.fused(fused, Weights.linear(be, lin.get(6 * l + 3), src, hidden, hidden), heads, heads, headDim,
                            (float) (1.0 / Math.sqrt(headDim)), null)
                    : new Attention(Weights.linear(be, qkv[0], src, hidden, hidden), Weights.linear(be, qkv[1], src, hidden, hidden),
                            Weights.linear(be, qkv[2], src, hidden, hidden), Weights.linear(be, lin.get(6 * l + 3), src, hidden, hidden),
                            heads, heads, headDim, (float) (1.0 / Math.sqrt(headDim)), null);
            Linear up = Weights.linear(be, lin.get(6 * l + 4), src, -1, hidden);
            Mlp mlp = new Mlp(up, null, Weights.linear(be, lin.get(6 * l + 5), src, hidden, up.out()), act);
            layers.add(new EncoderLayer(attn, Weights.norm(be, norms.get(1 + 2 * l), src, hidden), mlp, Weights.norm(be, norms.get(2 + 2 * l), src, hidden), false));
        }
        if (pos != null) TensorCheck.shape(src, "position embedding", pos, -1, hidden);
        if (type != null) TensorCheck.shape(src, "token type embedding", type, -1, hidden);
        Embeddings emb = new Embeddings(be.weight(word), pos == null ? null : be.weight(pos), 0,
                type == null ? null : be.weight(type), Weights.norm(be, norms.getFirst(), src, hidden), 1f);
        int maxPos = pos == null ? Integer.MAX_VALUE : (int) pos.dim(0);
        return new BertModel(be, new TransformerEncoder(emb, layers, null, null), hidden, heads, nLayers, maxPos, act,
                QuantizedLinears.describe(lin));
    }

    /** Heads from the Reshape that splits the key projection into [B, S, heads, headDim]. */
    private static int headsFromGraph(Graph g, GraphTracer t, LinearOp a, LinearOp b, LinearOp c, int hidden) {
        for (LinearOp op : List.of(a, b, c)) {
            for (Node n : g.consumers(op.output())) {
                if (!n.opType().equals("Reshape")) continue;
                List<Long> dims = constantDims(g, t, n.input(1));
                if (dims.size() >= 2) {
                    long h = dims.get(dims.size() - 2), d = dims.get(dims.size() - 1);
                    if (h > 0 && d > 0 && h * d == hidden) return (int) h;
                }
            }
        }
        throw new CortadoException("cannot find the number of attention heads in the graph");
    }

    private static List<Long> constantDims(Graph g, GraphTracer t, String shape) {
        List<Long> out = new ArrayList<>();
        GraphTracer.Const c = t.constant(shape);
        if (c != null) {
            for (long x : c.tensor().toLongArray()) out.add(x);
            return out;
        }
        Node p = g.producer(shape);
        if (p != null && p.opType().equals("Concat")) {
            for (String in : p.inputs()) {
                GraphTracer.Const ci = t.constant(in);
                out.add(ci == null || ci.tensor().numel() != 1 ? -1L : ci.tensor().getLong(0));
            }
        }
        return out;
    }

    @Override
    public float[][][] lastHiddenState(int[][] ids, int[][] typeIds, boolean[][] valid) {
        int b = ids.length, s = ids[0].length;
        float[] flat;
        try (var scope = backend.scope()) {
            Tensor last = encoder.forward(backend, ids, typeIds, valid);
            flat = backend.toHost(last);
            // a temporary of this forward: given back, the next batch's last layer reuses it (on the CPU, one [B, S, D]
            // array per batch otherwise left the recycled set: 6 MB of garbage per batch of 32)
            backend.release(last);
        }
        float[][][] out = new float[b][s][hidden];
        for (int i = 0; i < b; i++) for (int j = 0; j < s; j++) System.arraycopy(flat, (i * s + j) * hidden, out[i][j], 0, hidden);
        return out;
    }

    @Override
    public int maxPositions() {
        return maxPositions;
    }

    @Override
    public String describe() {
        return "bert: " + layers + " layers, hidden " + hidden + ", " + heads + " heads, " + activation + quantized + ", backend " + backend.name();
    }

    public int hidden() { return hidden; }
    public int heads() { return heads; }
    public int layers() { return layers; }
}
