package dev.cortado.model;

import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.model.GraphTracer.Const;
import dev.cortado.model.GraphTracer.LinearOp;
import dev.cortado.model.GraphTracer.NormOp;
import dev.cortado.onnx.Node;
import dev.cortado.onnx.OnnxModel;
import dev.cortado.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Recovers Hugging Face parameter names for an Optimum seq2seq export (encoder_model.onnx + decoder_model.onnx)
 * by tracing the graphs, so the T5 and BART/Marian families build from ONNX exactly as from safetensors. Linears
 * are found in node order per layer; self- vs cross-attention projections by whether they read
 * encoder_hidden_states; q/k/v by where they enter the attention MatMuls.
 */
public final class Seq2SeqTracer implements AutoCloseable {
    private final OnnxModel encoder, decoder;
    /** The decoder graph without past (decoder_model.onnx, or the no-past branch of decoder_model_merged.onnx). */
    private final dev.cortado.onnx.Graph decoderGraph;
    private final Map<String, Tensor> names = new HashMap<>();
    private final Set<String> inOut = new HashSet<>();
    private final Backend be;
    private final Path dir;

    private Seq2SeqTracer(Path dir, OnnxModel encoder, OnnxModel decoder, Backend be) {
        this.dir = dir;
        this.encoder = encoder;
        this.decoder = decoder;
        this.decoderGraph = noPast(dir, decoder);
        this.be = be;
    }

    /** The decoder file: decoder_model.onnx, else Optimum's decoder_model_merged.onnx. */
    static Path decoderFile(Path dir) {
        Path plain = dir.resolve("decoder_model.onnx"), merged = dir.resolve(MERGED);
        return !Files.isRegularFile(plain) && Files.isRegularFile(merged) ? merged : plain;
    }

    private static final String MERGED = "decoder_model_merged.onnx";

    /**
     * The decoder graph to trace: the whole graph, or for Optimum's merged decoder the else (no-past) branch of its
     * If node on use_cache_branch, which holds the full decoder and reads the weights kept at the top level.
     */
    private static dev.cortado.onnx.Graph noPast(Path dir, OnnxModel d) {
        dev.cortado.onnx.Graph g = d.graph();
        if (g.nodes().stream().anyMatch(n -> n.opType().equals("MatMul") || n.opType().equals("Gemm"))) return g;
        for (Node n : g.nodes()) {
            if (!n.opType().equals("If")) continue;
            dev.cortado.onnx.Graph branch = n.attrGraph("else_branch");
            if (branch != null) return g.withOuterScope(branch);
        }
        throw new CortadoException(dir.resolve(MERGED) + ": no If node with an else (no-past) branch, as Optimum's "
                + "merged decoders have; export decoder_model.onnx instead (optimum-cli export onnx --no-post-process)");
    }

    public static Seq2SeqTracer open(Path dir, ModelConfig c, Backend be) {
        Path decoderFile = decoderFile(dir);
        for (Path f : new Path[] {dir.resolve("encoder_model.onnx"), decoderFile}) {
            if (!Files.isRegularFile(f)) throw new CortadoException("model folder " + dir + " is missing " + f.getFileName()
                    + (f == decoderFile ? " (or " + MERGED + ")" : ""));
        }
        OnnxModel e = OnnxModel.open(dir.resolve("encoder_model.onnx"));
        OnnxModel d;
        try {
            d = OnnxModel.open(decoderFile);
        } catch (RuntimeException ex) {
            e.close();
            throw ex;
        }
        Seq2SeqTracer t;
        try {
            t = new Seq2SeqTracer(dir, e, d, be);
        } catch (RuntimeException ex) {
            e.close();
            d.close();
            throw ex;
        }
        try {
            if (c.modelType().equals("t5")) t.traceT5(c);
            else if (c.modelType().equals("whisper")) t.traceWhisper(c);
            else t.traceBart(c);
        } catch (RuntimeException ex) {
            t.close();
            throw ex;
        }
        return t;
    }

    public WeightNames names() {
        return new WeightNames(be, names, inOut, dir + " (ONNX, traced)");
    }

    private void put(String name, Const c) {
        if (c == null) return;
        names.put(name, c.tensor());
        if (!c.transposed() && c.tensor().rank() == 2) inOut.add(name);
    }

    private void linear(String prefix, LinearOp op) {
        if (op.quantized()) {
            throw new dev.cortado.CortadoException(dir + ": quantized " + op.node().opType() + " weights are not supported in "
                    + "encoder-decoder graphs by Cortado's engine (run the model with --engine ort)");
        }
        put(prefix + ".weight", op.weight());
        if (op.bias() != null) names.put(prefix + ".bias", op.bias().tensor());
    }

    private void norm(String prefix, NormOp n, boolean rmsName) {
        names.put(rmsName ? prefix + ".weight" : prefix + ".weight", n.gamma().tensor());
        if (n.beta() != null) names.put(prefix + ".bias", n.beta().tensor());
    }

    /** Gathers on 2-D constants: [0] = the table indexed by input_ids, [1] = another table (positions / T5 bias). */
    private static Tensor[] tables(GraphTracer t) {
        Tensor tok = null, other = null;
        for (Node n : t.graph().nodes()) {
            if (!n.opType().equals("Gather")) continue;
            Const c = t.constant(n.input(0));
            if (c == null || c.tensor().rank() != 2) continue;
            if ("input_ids".equals(t.rootInput(n.input(1)))) tok = c.tensor();
            else if (other == null) other = c.tensor();
        }
        return new Tensor[] {tok, other};
    }

    /** Per decoder layer: self q,k,v,o, cross q,k,v,o, then the MLP linears (in node order). */
    private record DecoderLinears(LinearOp[] self, LinearOp selfO, LinearOp[] cross, LinearOp crossO, List<LinearOp> mlp) {}

    private List<DecoderLinears> decoderLinears(GraphTracer t, int layers, int mlpCount) {
        List<LinearOp> all = t.linears();
        int per = 8 + mlpCount;
        if (all.size() != per * layers + 1) {
            throw new CortadoException("decoder_model.onnx: expected " + (per * layers + 1) + " linear layers for "
                    + layers + " decoder layers, found " + all.size());
        }
        List<DecoderLinears> out = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            List<LinearOp> group = all.subList(per * l, per * (l + 1));
            List<LinearOp> fromEncoder = new ArrayList<>(), rest = new ArrayList<>();
            for (LinearOp op : group) {
                ("encoder_hidden_states".equals(t.rootInput(op.input())) ? fromEncoder : rest).add(op);
            }
            if (fromEncoder.size() != 2) throw new CortadoException("decoder layer " + l + ": cannot find the cross-attention k/v projections");
            LinearOp[] self = t.orderQkv(rest.subList(0, 3));
            LinearOp[] cross = t.orderQkv(List.of(rest.get(4), fromEncoder.get(0), fromEncoder.get(1)));
            out.add(new DecoderLinears(self, rest.get(3), cross, rest.get(5), rest.subList(6, rest.size())));
        }
        return out;
    }

    private void traceBart(ModelConfig c) {
        String enc = "model.encoder.", dec = "model.decoder.";
        GraphTracer te = new GraphTracer(encoder.graph()), td = new GraphTracer(decoderGraph);
        ConfigCheck k = new ConfigCheck(c);
        int el = k.size("encoder_layers", ConfigCheck.MAX_LAYERS), dl = k.size("decoder_layers", ConfigCheck.MAX_LAYERS);
        Tensor[] et = tables(te), dt = tables(td);
        if (et[0] == null) throw new CortadoException("encoder_model.onnx: no token embedding Gather on input_ids");
        names.put("model.shared.weight", et[0]);
        names.put("model.decoder.embed_tokens.weight", dt[0] != null ? dt[0] : et[0]);
        if (et[1] != null) names.put(enc + "embed_positions.weight", et[1]);
        if (dt[1] != null) names.put(dec + "embed_positions.weight", dt[1]);
        List<LinearOp> lin = te.linears();
        List<NormOp> norms = te.norms();
        if (lin.size() != 6 * el) throw new CortadoException("encoder_model.onnx: expected " + 6 * el + " linear layers, found " + lin.size());
        int off = norms.size() - 2 * el;
        if (off == 1) norm(enc + "layernorm_embedding", norms.getFirst(), false);
        for (int l = 0; l < el; l++) bartEncoderLayer(enc + "layers." + l + ".", te, lin.subList(6 * l, 6 * l + 6), norms, off + 2 * l);
        List<NormOp> dn = td.norms();
        int doff = dn.size() - 3 * dl;
        if (doff == 1) norm(dec + "layernorm_embedding", dn.getFirst(), false);
        List<DecoderLinears> layers = decoderLinears(td, dl, 2);
        for (int l = 0; l < dl; l++) {
            bartDecoderLayer(dec + "layers." + l + ".", layers.get(l), dn, doff + 3 * l);
        }
        LinearOp head = td.linears().getLast();
        put("lm_head.weight", head.weight());
        if (head.bias() != null) names.put("final_logits_bias", head.bias().tensor());
    }

    /**
     * Whisper: the encoder's two Conv nodes (conv1, conv2), the Add of a [positions, d] constant (embed_positions),
     * then pre-LN layers (self q,k,v,o, fc1, fc2; 2 norms each) and a final norm; the decoder as BART's plus a final
     * norm, the head (proj_out, tied) last.
     */
    private void traceWhisper(ModelConfig c) {
        String enc = "model.encoder.", dec = "model.decoder.";
        GraphTracer te = new GraphTracer(encoder.graph()), td = new GraphTracer(decoderGraph);
        int el = c.integer("encoder_layers"), dl = c.integer("decoder_layers"), d = c.integer("d_model");
        List<Node> convs = new ArrayList<>();
        for (Node n : te.graph().nodes()) {
            if (n.opType().equals("Conv")) convs.add(n);
            if (n.opType().equals("Add") && !names.containsKey(enc + "embed_positions.weight")) {
                for (String in : n.inputs()) {
                    Const k = te.constant(in);
                    if (k != null && k.tensor().rank() == 2 && k.tensor().dim(1) == d && k.tensor().dim(0) > 1)
                        names.put(enc + "embed_positions.weight", k.tensor());
                }
            }
        }
        if (convs.size() != 2) throw new CortadoException("encoder_model.onnx: expected Whisper's 2 Conv nodes, found " + convs.size());
        for (int i = 0; i < 2; i++) {
            Const w = te.constant(convs.get(i).input(1));
            if (w == null) throw new CortadoException("encoder_model.onnx: conv" + (i + 1) + " weight is not a constant");
            names.put(enc + "conv" + (i + 1) + ".weight", w.tensor());
            Const b = convs.get(i).inputs().size() > 2 ? te.constant(convs.get(i).input(2)) : null;
            if (b != null) names.put(enc + "conv" + (i + 1) + ".bias", b.tensor());
        }
        if (!names.containsKey(enc + "embed_positions.weight")) throw new CortadoException("encoder_model.onnx: cannot find the encoder positions");
        List<LinearOp> lin = te.linears();
        List<NormOp> norms = te.norms();
        if (lin.size() != 6 * el || norms.size() != 2 * el + 1) throw new CortadoException("encoder_model.onnx: expected " + 6 * el
                + " linears and " + (2 * el + 1) + " norms, found " + lin.size() + " and " + norms.size());
        for (int l = 0; l < el; l++) bartEncoderLayer(enc + "layers." + l + ".", te, lin.subList(6 * l, 6 * l + 6), norms, 2 * l);
        norm(enc + "layer_norm", norms.getLast(), false);
        Tensor[] dt = tables(td);
        if (dt[0] == null || dt[1] == null) throw new CortadoException("decoder_model.onnx: cannot find the token and position embeddings");
        names.put(dec + "embed_tokens.weight", dt[0]);
        names.put(dec + "embed_positions.weight", dt[1]);
        List<NormOp> dn = td.norms();
        if (dn.size() != 3 * dl + 1) throw new CortadoException("decoder_model.onnx: expected " + (3 * dl + 1) + " norms, found " + dn.size());
        List<DecoderLinears> layers = decoderLinears(td, dl, 2);
        for (int l = 0; l < dl; l++) {
            bartDecoderLayer(dec + "layers." + l + ".", layers.get(l), dn, 3 * l);
        }
        norm(dec + "layer_norm", dn.getLast(), false);
        put("proj_out.weight", td.linears().getLast().weight());
    }

    /** BART/Marian/Whisper encoder layer names: q/k/v/out, fc1/fc2 from its six linears, two post-norms from {@code norm0}. */
    private void bartEncoderLayer(String p, GraphTracer te, List<LinearOp> six, List<NormOp> norms, int norm0) {
        LinearOp[] qkv = te.orderQkv(six.subList(0, 3));
        linear(p + "self_attn.q_proj", qkv[0]);
        linear(p + "self_attn.k_proj", qkv[1]);
        linear(p + "self_attn.v_proj", qkv[2]);
        linear(p + "self_attn.out_proj", six.get(3));
        linear(p + "fc1", six.get(4));
        linear(p + "fc2", six.get(5));
        norm(p + "self_attn_layer_norm", norms.get(norm0), false);
        norm(p + "final_layer_norm", norms.get(norm0 + 1), false);
    }

    /** BART/Marian/Whisper decoder layer names: self and cross q/k/v/out, fc1/fc2, three post-norms from {@code norm0}. */
    private void bartDecoderLayer(String p, DecoderLinears d, List<NormOp> dn, int norm0) {
        String[] qkv = {"q_proj", "k_proj", "v_proj"};
        for (int i = 0; i < 3; i++) {
            linear(p + "self_attn." + qkv[i], d.self()[i]);
            linear(p + "encoder_attn." + qkv[i], d.cross()[i]);
        }
        linear(p + "self_attn.out_proj", d.selfO());
        linear(p + "encoder_attn.out_proj", d.crossO());
        linear(p + "fc1", d.mlp().get(0));
        linear(p + "fc2", d.mlp().get(1));
        norm(p + "self_attn_layer_norm", dn.get(norm0), false);
        norm(p + "encoder_attn_layer_norm", dn.get(norm0 + 1), false);
        norm(p + "final_layer_norm", dn.get(norm0 + 2), false);
    }

    private void traceT5(ModelConfig c) {
        GraphTracer te = new GraphTracer(encoder.graph()), td = new GraphTracer(decoderGraph);
        ConfigCheck k = new ConfigCheck(c);
        int el = k.size("num_layers", ConfigCheck.MAX_LAYERS), dl = k.size("num_decoder_layers", el, ConfigCheck.MAX_LAYERS);
        boolean gated = k.choice("feed_forward_proj", "relu", ConfigCheck.FEED_FORWARD).startsWith("gated-");
        int mlp = gated ? 3 : 2;
        Tensor[] et = tables(te), dt = tables(td);
        if (et[0] == null || et[1] == null) throw new CortadoException("encoder_model.onnx: cannot find T5 embeddings and relative position bias");
        names.put("shared.weight", et[0]);
        names.put("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", et[1]);
        if (dt[1] == null) throw new CortadoException("decoder_model.onnx: cannot find the T5 relative position bias");
        names.put("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", dt[1]);
        List<LinearOp> lin = te.linears();
        List<NormOp> norms = te.norms();
        int per = 4 + mlp;
        if (lin.size() != per * el || norms.size() != 2 * el + 1) {
            throw new CortadoException("encoder_model.onnx: expected " + per * el + " linears and " + (2 * el + 1) + " norms, found "
                    + lin.size() + " and " + norms.size());
        }
        String[] ff = gated ? new String[] {"wi_0", "wi_1", "wo"} : new String[] {"wi", "wo"};
        for (int l = 0; l < el; l++) {
            String p = "encoder.block." + l + ".layer.";
            LinearOp[] qkv = te.orderQkv(lin.subList(per * l, per * l + 3));
            String[] qkvn = {"q", "k", "v"};
            for (int i = 0; i < 3; i++) linear(p + "0.SelfAttention." + qkvn[i], qkv[i]);
            linear(p + "0.SelfAttention.o", lin.get(per * l + 3));
            mlpNames(te, p + "1.DenseReluDense.", lin.subList(per * l + 4, per * (l + 1)), ff);
            norm(p + "0.layer_norm", norms.get(2 * l), true);
            norm(p + "1.layer_norm", norms.get(2 * l + 1), true);
        }
        norm("encoder.final_layer_norm", norms.getLast(), true);
        List<NormOp> dn = td.norms();
        if (dn.size() != 3 * dl + 1) throw new CortadoException("decoder_model.onnx: expected " + (3 * dl + 1) + " norms, found " + dn.size());
        List<DecoderLinears> layers = decoderLinears(td, dl, mlp);
        for (int l = 0; l < dl; l++) {
            String p = "decoder.block." + l + ".layer.";
            DecoderLinears d = layers.get(l);
            String[] qkvn = {"q", "k", "v"};
            for (int i = 0; i < 3; i++) {
                linear(p + "0.SelfAttention." + qkvn[i], d.self()[i]);
                linear(p + "1.EncDecAttention." + qkvn[i], d.cross()[i]);
            }
            linear(p + "0.SelfAttention.o", d.selfO());
            linear(p + "1.EncDecAttention.o", d.crossO());
            mlpNames(td, p + "2.DenseReluDense.", d.mlp(), ff);
            for (int i = 0; i < 3; i++) norm(p + i + ".layer_norm", dn.get(3 * l + i), true);
        }
        norm("decoder.final_layer_norm", dn.getLast(), true);
        put("lm_head.weight", td.linears().getLast().weight());
    }

    /** T5 MLP: wi/wo, or gated wi_0 (through the activation) / wi_1 / wo. */
    private void mlpNames(GraphTracer t, String p, List<LinearOp> ops, String[] ff) {
        if (ops.size() == 2) {
            linear(p + ff[0], ops.get(0));
            linear(p + ff[1], ops.get(1));
            return;
        }
        LinearOp a = ops.get(0), b = ops.get(1);
        boolean aActivated = t.opBetween(a.output(), ops.get(2).input(), Set.of("Tanh", "Erf", "Sigmoid", "Relu"));
        linear(p + "wi_0", aActivated ? a : b);
        linear(p + "wi_1", aActivated ? b : a);
        linear(p + "wo", ops.get(2));
    }

    @Override
    public void close() {
        encoder.close();
        decoder.close();
    }
}
