package dev.cortado.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.engine.DefaultModels;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.Generator;
import dev.cortado.generate.LanguageModel;
import dev.cortado.generate.TokenLogprob;
import dev.cortado.model.Families;
import dev.cortado.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cortado generate}: text generation with a decoder model (default: stories260K). */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text with a decoder model (Llama, Mistral, Qwen2, GPT-2; others via --engine ort).")
public final class GenerateCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", description = "model folder (config.json + model.safetensors or ONNX) or .onnx file; default stories260K")
    Path model;
    @Option(names = "--tokenizer", description = "tokenizer.json (default: next to the model)") Path tokenizer;
    @Option(names = "--prompt", required = true, description = "prompt text") String prompt;
    @Option(names = "--max-tokens", description = "new tokens to generate (default 64)") Integer maxTokens;
    @Option(names = "--temperature", description = "sampling temperature (0 = greedy)") Float temperature;
    @Option(names = "--top-k") Integer topK;
    @Option(names = "--top-p") Float topP;
    @Option(names = "--min-p") Float minP;
    @Option(names = "--repetition-penalty") Float repetitionPenalty;
    @Option(names = "--seed", description = "sampling seed (same seed, same tokens)") Long seed;
    @Option(names = "--stop", description = "stop string (repeatable)") List<String> stop;
    @Option(names = "--beams", description = "beam search width") Integer beams;
    @Option(names = "--num-return", description = "sequences to return") Integer numReturn;
    @Option(names = "--logprobs", description = "top-N logprobs per token in --json output") Integer logprobs;
    @Option(names = "--engine", defaultValue = "cortado", description = "cortado or ort") String engine;
    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda[:N]") String device;
    @Option(names = "--dtype", defaultValue = "f32", description = "weights: f32, bf16 (CPU: linear weights as bfloat16, half the bytes per token), f16 (CUDA)") String dtype;
    @Option(names = "--json", description = "print {text, ids, finish_reason, logprobs}") boolean json;
    @Option(names = "--stream", description = "print tokens as they are generated") boolean stream;
    @picocli.CommandLine.Mixin ConstraintOptions constraintOptions = new ConstraintOptions();

    @Override
    public Integer call() {
        Families.Engine eng = Families.Engine.parse(engine);
        dev.cortado.Device dev = Devices.parse(device);
        dev.cortado.tensor.DType dt = Devices.dtype(dtype);
        Path m = model != null ? model : DefaultModels.stories260K();
        GenerationConfig c = ModelFiles.generationConfig(m);
        c = c.maxNewTokens(maxTokens != null ? maxTokens : 64);
        if (temperature != null) c = c.temperature(temperature).doSample(temperature > 0);
        if (topK != null) c = c.topK(topK).doSample(true);
        if (topP != null) c = c.topP(topP).doSample(true);
        if (minP != null) c = c.minP(minP).doSample(true);
        if (temperature != null && temperature == 0) c = c.doSample(false);
        if (repetitionPenalty != null) c = c.repetitionPenalty(repetitionPenalty);
        if (seed != null) c = c.seed(seed);
        if (stop != null) c = c.stopStrings(stop.toArray(String[]::new));
        c = constraintOptions.apply(c);
        if (beams != null) c = c.numBeams(beams);
        if (numReturn != null) c = c.numReturnSequences(numReturn);
        if (logprobs != null) c = c.logprobs(logprobs);
        c.validate();
        Tokenizer tok = ModelFiles.tokenizer(m, tokenizer);
        PrintWriter out = spec.commandLine().getOut();
        try (LanguageModel lm = Families.openDecoder(m, dev, dt, eng)) {
            Generator g = new Generator(lm, tok, c);
            List<GenerationResult> results;
            if (stream && !json) {
                results = g.generateBatch(List.of(prompt), t -> {
                    out.print(t.text());
                    out.flush();
                });
                out.println();
            } else {
                results = g.generateBatch(List.of(prompt));
            }
            if (json) {
                ObjectMapper om = new ObjectMapper();
                for (GenerationResult r : results) out.println(toJson(om, r, tok));
            } else if (!stream) {
                for (GenerationResult r : results) out.println(r.text());
            }
            ConstraintOptions.warnIfIncomplete(c, results, spec.commandLine().getErr());
        }
        out.flush();
        return 0;
    }

    static String toJson(ObjectMapper om, GenerationResult r, Tokenizer tok) {
        ObjectNode o = om.createObjectNode();
        o.put("text", r.text());
        ArrayNode ids = o.putArray("ids");
        for (int id : r.ids()) ids.add(id);
        o.put("finish_reason", r.finishReason().label());
        o.put("score", r.score());
        if (r.logprobs() != null && !r.logprobs().isEmpty()) {
            ArrayNode lp = o.putArray("logprobs");
            for (TokenLogprob t : r.logprobs()) {
                ObjectNode e = lp.addObject().put("token", t.text()).put("id", t.id()).put("logprob", t.logprob());
                ArrayNode top = e.putArray("top");
                if (t.top() != null) for (TokenLogprob.Top x : t.top()) top.addObject().put("token", x.text()).put("id", x.id()).put("logprob", x.logprob());
            }
        }
        return o.toString();
    }
}
