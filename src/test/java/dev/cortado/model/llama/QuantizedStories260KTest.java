package dev.cortado.model.llama;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.backend.Quantization;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.backend.cpu.WorkerPool;
import dev.cortado.generate.DecoderSession;
import dev.cortado.generate.LanguageModel;
import dev.cortado.tensor.DType;
import dev.cortado.testing.Shared;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code --quantize} on stories260K: the text is llama2.c's own 200-token greedy continuation from BOS
 * (../shared/models/stories260K/goldens.json, which the float32 model reproduces exactly, see {@link Stories260KTest}).
 * Teacher-forced over that text, the quantized model's top-1 must agree with the float32 model's on ≥ 99 % of the
 * steps for int8 (≥ 90 % for int4), and its perplexity on the text is reported next to float32's. int4 runs both ways
 * its weights can multiply activations: int8-quantized per block (the default) and float.
 */
class QuantizedStories260KTest {
    @ParameterizedTest(name = "int{0} all={1} int8 activations={3}")
    @CsvSource({"8,false,0.99,false", "4,false,0.90,true", "4,false,0.90,false", "8,true,0.99,false"})
    void topOneAgreementAndPerplexity(int bits, boolean all, double minAgreement, boolean int8Activations) throws Exception {
        Path dir = Shared.require("models/stories260K");
        JsonNode g = new ObjectMapper().readTree(dir.resolve("goldens.json").toFile()).get("greedy_from_bos");
        int[] text = new ObjectMapper().convertValue(g.has("ids") ? g.get("ids") : g.get("generated_ids"), int[].class);
        try (LanguageModel f = LlamaFamily.fromSafetensors(dir, new CpuBackend());
             LanguageModel q = LlamaFamily.fromSafetensors(dir, new CpuBackend(WorkerPool.shared(), DType.F32, new Quantization(bits, all, int8Activations)));
             DecoderSession sf = f.newSession(1); DecoderSession sq = q.newSession(1)) {
            int agree = 0, tok = 1;
            double nllF = 0, nllQ = 0, worst = 0;
            for (int i = 0; i < text.length; i++) {
                float[] lf = sf.step(new int[][] {{tok}}, null)[0], lq = sq.step(new int[][] {{tok}}, null)[0];
                if (Stories260KTest.argmax(lf) == Stories260KTest.argmax(lq)) agree++;
                nllF -= logProb(lf, text[i]);
                nllQ -= logProb(lq, text[i]);
                for (int j = 0; j < lf.length; j++) worst = Math.max(worst, Math.abs(lf[j] - lq[j]));
                tok = text[i];
            }
            double rate = agree / (double) text.length, pplF = Math.exp(nllF / text.length), pplQ = Math.exp(nllQ / text.length);
            System.out.printf("stories260K int%d%s: top-1 agreement %d/%d (%.1f %%), perplexity %.4f vs float32 %.4f (Δ %+.4f), "
                    + "max |Δ logit| %.4f%n", bits, (all ? " (all)" : "") + (int8Activations ? " × int8 activations" : ""), agree, text.length, 100 * rate, pplQ, pplF, pplQ - pplF, worst);
            assertTrue(rate >= minAgreement, "int" + bits + " top-1 agreement " + rate + " < " + minAgreement);
            assertTrue(pplQ < pplF * (bits == 8 ? 1.05 : 1.5), "int" + bits + " perplexity " + pplQ + " vs float32 " + pplF);
        }
    }

    private static double logProb(float[] logits, int id) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float x : logits) max = Math.max(max, x);
        for (float x : logits) sum += Math.exp(x - max);
        return logits[id] - max - Math.log(sum);
    }
}
