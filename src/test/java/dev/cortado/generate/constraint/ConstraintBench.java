package dev.cortado.generate.constraint;

import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.bench.SyntheticModels;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.Generator;
import dev.cortado.generate.LanguageModel;
import dev.cortado.generate.LogitsProcessorChain;
import dev.cortado.generate.TokenHistory;
import dev.cortado.registry.Families;
import dev.cortado.testing.Shared;
import dev.cortado.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Not a test: per-token overhead of constrained decoding. (1) The constraint processor alone on a real vocabulary
 * (gpt2 50k, qwen3 152k; model vocabulary padded to the export's size) over a 200-token constrained generation with
 * random logits: cold (first request: masks computed) and warm (same schema again). (2) End to end on
 * synthetic:gpt2-124m with the gpt2 tokenizer, greedy, batch 1 and 8: ms per generated token, unconstrained vs
 * constrained (median of repeats, after a warm-up request). Run: java -cp ... dev.cortado.generate.constraint.ConstraintBench
 */
public final class ConstraintBench {
    static final String SCHEMA = """
            {"type":"object","properties":{"name":{"type":"string","maxLength":40},
             "age":{"type":"integer","minimum":0,"maximum":150},
             "tags":{"type":"array","items":{"type":"string","maxLength":20},"maxItems":5},
             "address":{"type":"object","properties":{"city":{"type":"string"},"zip":{"type":"string","pattern":"^[0-9]{5}$"}},
               "required":["city","zip"]}},"required":["name","age","tags","address"]}""";

    public static void main(String[] args) {
        System.out.println("host: " + Runtime.getRuntime().availableProcessors() + " cores, java " + Runtime.version());
        long t0 = System.nanoTime();
        Constraint.jsonSchema(SCHEMA);
        System.out.printf("schema compile, first in this JVM (class loading, JIT cold): %.1f ms%n", ms(t0));
        t0 = System.nanoTime();
        Constraint.jsonSchema(SCHEMA.replace("150", "151"));
        System.out.printf("schema compile, another schema of the same shape: %.1f ms%n", ms(t0));
        t0 = System.nanoTime();
        Constraint.jsonSchema(SCHEMA);
        System.out.printf("schema compile, same schema again (cache hit): %.3f ms%n", ms(t0));
        processorOnly("gpt2", 50257);
        processorOnly("qwen3", 151936);
        endToEnd(args.length > 0 ? args[0] : "gpt2-124m", args.length > 1 ? Integer.parseInt(args[1]) : 24);
    }

    static void processorOnly(String name, int modelVocab) {
        Tokenizer tok = Tokenizer.fromFile(Shared.require("models/tokenizers/" + name + "/tokenizer.json"));
        long t0 = System.nanoTime();
        TokenVocabulary.of(tok);
        System.out.printf("%s: vocabulary index (once per tokenizer) %.0f ms%n", name, ms(t0));
        int eos = tok.vocabSize() - 1;
        for (String run : List.of("cold", "warm", "warm")) {
            GenerationConfig cfg = GenerationConfig.greedy().eosTokenId(eos).constraint(Constraint.jsonSchema(SCHEMA));
            LogitsProcessorChain chain = LogitsProcessorChain.of(cfg, tok);
            Random rnd = new Random(1);
            TokenHistory h = new TokenHistory(new int[] {0}, 10_000);
            float[] base = new float[modelVocab];
            long spent = 0;
            int steps = 0;
            for (; steps < 200; steps++) {
                for (int i = 0; i < base.length; i++) base[i] = (float) rnd.nextGaussian();
                float[] s = base.clone();
                long a = System.nanoTime();
                chain.process(h, s);
                spent += System.nanoTime() - a;
                int best = 0;
                for (int i = 1; i < s.length; i++) if (s[i] > s[best]) best = i;
                if (best == eos) break;
                append(h, best);
            }
            int[] counts = Constraint.jsonSchema(SCHEMA).masks(TokenVocabulary.of(tok)).counts();
            System.out.printf("  %s request: %d steps, %.3f ms per token in the constraint processor (%d masks, %d distinct)%n",
                    run, steps, spent / 1e6 / steps, counts[0], counts[1]);
        }
    }

    static void append(TokenHistory h, int id) {
        try {
            var m = TokenHistory.class.getDeclaredMethod("append", int.class);
            m.setAccessible(true);
            m.invoke(h, id);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    static void endToEnd(String synthetic, int tokens) {
        Tokenizer tok = Tokenizer.fromFile(Shared.require("models/tokenizers/gpt2/tokenizer.json"));
        try (LanguageModel m = Families.openDecoder(SyntheticModels.materialize(synthetic, SyntheticModels.cacheRoot()),
                new CpuBackend(), Families.Engine.CORTADO)) {
            Constraint c = Constraint.jsonSchema(SCHEMA);
            for (int batch : new int[] {1, 8}) {
                List<String> prompts = new ArrayList<>();
                for (int i = 0; i < batch; i++) prompts.add("The record of person " + i + " is");
                GenerationConfig plain = GenerationConfig.greedy().maxNewTokens(tokens).eosTokenId(50256);
                Generator[] gs = {new Generator(m, tok, plain), new Generator(m, tok, plain.constraint(c))};
                double[][] perTok = new double[2][5];
                for (Generator g : gs) g.generateBatch(prompts); // warm-up (and, constrained, the first request's masks)
                for (int r = 0; r < 5; r++) {
                    for (int k = 0; k < 2; k++) { // interleaved, so load changes hit both alike
                        long t0 = System.nanoTime();
                        List<GenerationResult> out = gs[k].generateBatch(prompts);
                        int n = out.stream().mapToInt(x -> x.ids().length).max().orElse(1);
                        perTok[k][r] = ms(t0) / n;
                        if (r == 0 && k == 1 && batch == 1) System.out.println("  sample: " + out.getFirst().text());
                    }
                }
                for (int k = 0; k < 2; k++) {
                    Arrays.sort(perTok[k]);
                    System.out.printf("%s batch %d %s: %.1f ms per step (min of 5), median %.1f%n", synthetic, batch,
                            k == 1 ? "constrained  " : "unconstrained", perTok[k][0], perTok[k][2]);
                }
            }
        }
    }

    static double ms(long t0) {
        return (System.nanoTime() - t0) / 1e6;
    }
}
