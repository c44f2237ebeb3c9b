package dev.cortado.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;
import dev.cortado.engine.DefaultModels;
import dev.cortado.registry.Families;
import dev.cortado.engine.EmbeddingModel;
import dev.cortado.engine.Pooling;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cortado embed}: one JSON line {"text","embedding"} per input. */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = "Sentence embeddings (default model: all-MiniLM-L6-v2). Reads stdin lines when no TEXT is given.")
public final class EmbedCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", description = "a .onnx file or a folder with model.onnx + tokenizer.json")
    Path model;

    @Option(names = "--tokenizer", description = "tokenizer.json (default: next to the model)")
    Path tokenizer;

    @Option(names = "--engine", defaultValue = "cortado", description = "cortado, ort (ONNX Runtime) or auto (Cortado's engine when it runs the model, else ONNX Runtime); default ${DEFAULT-VALUE}")
    String engine;

    @Option(names = "--pooling", defaultValue = "mean", description = "mean or cls")
    String pooling;

    @Option(names = "--no-normalize", description = "skip L2 normalization")
    boolean noNormalize;

    @Option(names = "--batch-size", defaultValue = "32", description = "inputs per forward pass")
    int batchSize;

    @Option(names = "--json", description = "JSON lines output (the default; kept for symmetry with other commands)")
    boolean json;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu (cuda: see `cortado info --device cuda`)")
    String device;

    @picocli.CommandLine.Mixin QuantizeOptions quantizeOptions = new QuantizeOptions();

    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "texts to embed (default: one per stdin line)")
    List<String> texts;

    @Override
    public Integer call() {
        if (batchSize < 1) throw new CortadoException("--batch-size must be ≥ 1, got " + batchSize);
        Devices.requireCpu(device);
        Pooling p = Pooling.parse(pooling);
        Families.Engine e = Models.engine(engine);
        List<String> inputs = Inputs.argsOrStdin(texts, System.in);
        Path m = model != null ? model : DefaultModels.minilm();
        PrintWriter out = spec.commandLine().getOut();
        ObjectMapper json = new ObjectMapper();
        try (EmbeddingModel em = Models.openEmbedder(m, tokenizer, e, p, !noNormalize, quantizeOptions.quantization())) {
            List<float[]> vs = em.embed(inputs, batchSize);
            for (int i = 0; i < inputs.size(); i++) {
                ObjectNode o = json.createObjectNode();
                o.put("text", inputs.get(i));
                ArrayNode a = o.putArray("embedding");
                for (float f : vs.get(i)) a.add(f);
                out.println(o.toString());
            }
        }
        out.flush();
        return 0;
    }
}
