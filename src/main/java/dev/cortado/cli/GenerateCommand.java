package dev.cortado.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;
import dev.cortado.api.SamplingParams;
import dev.cortado.engine.DecoderModel;
import dev.cortado.engine.DefaultModels;
import dev.cortado.engine.Engine;
import dev.cortado.engine.EngineOptions;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.Generator;
import dev.cortado.generate.LanguageModel;
import dev.cortado.generate.PromptOverflow;
import dev.cortado.generate.TokenLogprob;
import dev.cortado.registry.Families;
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
    @Option(names = "--top-k", description = "sample from the K most likely tokens only") Integer topK;
    @Option(names = "--top-p", description = "sample from the smallest set of tokens whose probabilities add up to P (nucleus)") Float topP;
    @Option(names = "--min-p", description = "drop tokens less likely than P times the most likely one") Float minP;
    @Option(names = "--repetition-penalty", description = "divide the logits of tokens already in the text by this (> 1 repeats less)") Float repetitionPenalty;
    @Option(names = "--seed", description = "sampling seed: the same seed gives the same text (default: a fresh random seed, printed in --json "
            + "output and, with --debug, on stderr)") Long seed;
    @Option(names = "--truncate", defaultValue = "none", description = "when the prompt plus --max-tokens exceed the model's context: "
            + "none (fail, the default) or left (drop tokens from the start of the prompt)") String truncate;
    @Option(names = "--stop", description = "stop string (repeatable)") List<String> stop;
    @Option(names = "--beams", description = "beam search width") Integer beams;
    @Option(names = "--num-return", description = "sequences to return") Integer numReturn;
    @Option(names = "--logprobs", description = "top-N logprobs per token in --json output") Integer logprobs;
    @Option(names = "--engine", defaultValue = "cortado", description = "cortado, ort (ONNX Runtime over the model's ONNX file) or auto "
            + "(Cortado's engine when it runs the model, else ONNX Runtime); default ${DEFAULT-VALUE}") String engine;
    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda[:N]") String device;
    @Option(names = "--dtype", defaultValue = "f32", description = "weights: f32, bf16 (CPU: linear weights as bfloat16, half the bytes per token), f16 (CUDA)") String dtype;
    @picocli.CommandLine.Mixin QuantizeOptions quantizeOptions = new QuantizeOptions();
    @Option(names = "--json", description = "print {text, ids, finish_reason, logprobs}") boolean json;
    @Option(names = "--stream", description = "print tokens as they are generated") boolean stream;
    @picocli.CommandLine.Mixin ConstraintOptions constraintOptions = new ConstraintOptions();

    @Override
    public Integer call() {
        Families.Engine eng = Models.engine(engine);
        dev.cortado.device.Device dev = quantizeOptions.apply(Devices.parse(device));
        dev.cortado.tensor.DType dt = Devices.dtype(dtype);
        Path m = model != null ? model : DefaultModels.stories260K();
        // the same knob mapping as the OpenAI requests of `batch` (dev.cortado.api.SamplingParams)
        GenerationConfig c = new SamplingParams(maxTokens != null ? maxTokens : 64, temperature, topK, topP, minP,
                repetitionPenalty, null, null, seed, stop, numReturn, beams, logprobs, null)
                .applyTo(ModelFiles.generationConfig(m));
        c = c.promptOverflow(switch (truncate) {
            case "none" -> PromptOverflow.ERROR;
            case "left" -> PromptOverflow.TRUNCATE_LEFT;
            default -> throw new CortadoException("unknown --truncate '" + truncate + "' (use none or left)");
        });
        c = constraintOptions.apply(c);
        // no --seed: a fresh seed per run, as transformers does; reported so that the run can be repeated with --seed
        if (seed == null && c.doSample()) c = c.seed(new java.security.SecureRandom().nextLong() & Long.MAX_VALUE);
        picocli.CommandLine.Model.OptionSpec d = spec.findOption("--debug");
        boolean debug = d != null && Boolean.TRUE.equals(d.getValue());
        if (seed == null && c.doSample() && debug) spec.commandLine().getErr().println("cortado: seed " + c.seed());
        c.validate();
        Tokenizer tok = ModelFiles.tokenizer(m, tokenizer);
        PrintWriter out = spec.commandLine().getOut();
        int rows = Math.max(c.numBeams(), c.doSample() ? c.numReturnSequences() : 1);
        try (LanguageModel lm = Models.openDecoder(m, dev, dt, eng);
             Engine engine = lm instanceof DecoderModel dm && Engine.supports(dm) ? new Engine(dm, tok, EngineOptions.defaults().kvSequences(rows)) : null) {
            // Cortado's own models run through the serving engine, as every other surface does
            Generator g = new Generator(engine != null ? engine.languageModel() : lm, tok, c);
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
                for (GenerationResult r : results) {
                    ObjectNode o = toJson(om, r, tok);
                    if (c.doSample()) o.put("seed", c.seed());
                    out.println(o.toString());
                }
            } else if (!stream) {
                for (GenerationResult r : results) out.println(r.text());
            }
            ConstraintOptions.warnIfIncomplete(c, results, spec.commandLine().getErr());
        }
        out.flush();
        return 0;
    }

    static ObjectNode toJson(ObjectMapper om, GenerationResult r, Tokenizer tok) {
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
        return o;
    }
}
