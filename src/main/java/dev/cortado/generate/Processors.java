package dev.cortado.generate;

import dev.cortado.CortadoException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The logits processors (not the sampling warpers), each matching its Hugging Face transformers namesake. */
public final class Processors {
    private Processors() {}

    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    /**
     * transformers' RepetitionPenaltyLogitsProcessor: for every id in the history (prompt + generated; decoder ids
     * for encoder-decoder models), a negative score is multiplied by the penalty, a positive one divided.
     */
    public record RepetitionPenalty(float penalty) implements LogitsProcessor {
        @Override
        public void process(TokenHistory h, float[] scores) {
            boolean[] seen = new boolean[scores.length];
            for (int i = 0; i < h.length(); i++) {
                int id = h.get(i);
                if (id < 0 || id >= scores.length || seen[id]) continue;
                seen[id] = true;
                float s = scores[id];
                scores[id] = s < 0 ? s * penalty : s / penalty;
            }
        }
    }

    /**
     * OpenAI presence/frequency penalties over the generated tokens: {@code score -= presence * (count > 0) +
     * frequency * count}.
     */
    public record PresenceFrequencyPenalty(float presence, float frequency) implements LogitsProcessor {
        @Override
        public void process(TokenHistory h, float[] scores) {
            Map<Integer, Integer> counts = new HashMap<>();
            for (int i = h.promptLength(); i < h.length(); i++) counts.merge(h.get(i), 1, Integer::sum);
            for (var e : counts.entrySet()) {
                int id = e.getKey();
                if (id < 0 || id >= scores.length) continue;
                scores[id] -= presence + frequency * e.getValue();
            }
        }

        /**
         * The generated ids (distinct, in first-occurrence order) and how often each occurred: what {@link #process}
         * subtracts {@code presence + frequency · count} for. {@code [0]}: ids, {@code [1]}: counts.
         */
        public int[][] counts(TokenHistory h) {
            Map<Integer, Integer> counts = new java.util.LinkedHashMap<>();
            for (int i = h.promptLength(); i < h.length(); i++) counts.merge(h.get(i), 1, Integer::sum);
            int[] ids = new int[counts.size()], n = new int[counts.size()];
            int j = 0;
            for (var e : counts.entrySet()) {
                ids[j] = e.getKey();
                n[j++] = e.getValue();
            }
            return new int[][] {ids, n};
        }
    }

    /** transformers' NoRepeatNGramLogitsProcessor: bans a token that would repeat an n-gram of the history. */
    public record NoRepeatNgram(int n) implements LogitsProcessor {
        @Override
        public void process(TokenHistory h, float[] scores) {
            for (int banned : banned(h)) if (banned >= 0 && banned < scores.length) scores[banned] = NEG_INF;
        }

        /** The ids that would repeat an n-gram of the history (they depend on the history alone). */
        public List<Integer> banned(TokenHistory h) {
            List<Integer> out = new ArrayList<>();
            int len = h.length();
            if (len < n) return out;
            int prefixStart = len + 1 - n; // the last n-1 tokens
            for (int start = 0; start + n <= len; start++) {
                boolean match = true;
                for (int j = 0; j < n - 1 && match; j++) match = h.get(start + j) == h.get(prefixStart + j);
                if (match) out.add(h.get(start + n - 1));
            }
            return out;
        }
    }

    /**
     * transformers' SequenceBiasLogitsProcessor: adds a bias to the last token of a sequence whose other tokens end
     * the history. Used for logit_bias (single tokens) and, with -inf, for bad_words_ids (NoBadWordsLogitsProcessor).
     */
    public static final class SequenceBias implements LogitsProcessor {
        private final List<int[]> sequences = new ArrayList<>();
        private final List<Float> biases = new ArrayList<>();

        public SequenceBias(Map<List<Integer>, Float> bias) {
            for (var e : bias.entrySet()) {
                if (e.getKey().isEmpty()) throw new CortadoException("sequence bias: empty token sequence");
                sequences.add(e.getKey().stream().mapToInt(Integer::intValue).toArray());
                biases.add(e.getValue());
            }
        }

        public static SequenceBias logitBias(Map<Integer, Float> bias) {
            Map<List<Integer>, Float> m = new HashMap<>();
            bias.forEach((id, b) -> m.put(List.of(id), b));
            return new SequenceBias(m);
        }

        /** Bad words; as transformers does, a single-token bad word equal to an EOS id is dropped. Null if none left. */
        public static SequenceBias badWords(List<List<Integer>> words, List<Integer> eos) {
            Map<List<Integer>, Float> m = new HashMap<>();
            for (List<Integer> w : words) {
                if (w.size() == 1 && eos.contains(w.getFirst())) continue;
                m.put(w, NEG_INF);
            }
            return m.isEmpty() ? null : new SequenceBias(m);
        }

        /** Whether every bias is -inf (bad words): the processor only bans ids. */
        public boolean bansOnly() {
            for (float b : biases) if (b != NEG_INF) return false;
            return true;
        }

        /** The last ids of the sequences whose other ids end the history (those the processor biases now). */
        public List<Integer> banned(TokenHistory h) {
            List<Integer> out = new ArrayList<>();
            for (int[] seq : sequences) {
                int prefix = seq.length - 1;
                if (prefix > h.length()) continue;
                boolean match = true;
                for (int j = 0; j < prefix && match; j++) match = h.get(h.length() - prefix + j) == seq[j];
                if (match) out.add(seq[prefix]);
            }
            return out;
        }

        /**
         * The biases that apply after this history, summed per id in sequence order as {@link #process} sums them:
         * {@code ids} distinct, {@code values[i]} the total added to {@code ids[i]} (an id ≥ the vocabulary is kept:
         * the backend reports it as {@link #process} does).
         */
        public Matched matched(TokenHistory h) {
            Map<Integer, Float> sums = new java.util.LinkedHashMap<>();
            for (int s = 0; s < sequences.size(); s++) {
                int[] seq = sequences.get(s);
                int prefix = seq.length - 1;
                if (prefix > h.length()) continue;
                boolean match = true;
                for (int j = 0; j < prefix && match; j++) match = h.get(h.length() - prefix + j) == seq[j];
                if (match) sums.merge(seq[prefix], biases.get(s), (a, b) -> 0f + a + b);
            }
            int[] ids = new int[sums.size()];
            float[] values = new float[sums.size()];
            int j = 0;
            for (var e : sums.entrySet()) {
                ids[j] = e.getKey();
                values[j++] = 0f + e.getValue();
            }
            return new Matched(ids, values);
        }

        /** Per-id bias sums ({@link #matched}). */
        public record Matched(int[] ids, float[] values) {}

        @Override
        public void process(TokenHistory h, float[] scores) {
            float[] bias = new float[scores.length];
            for (int s = 0; s < sequences.size(); s++) {
                int[] seq = sequences.get(s);
                int last = seq[seq.length - 1];
                if (last >= scores.length)
                    throw new CortadoException("bias for token " + last + " but the model's vocabulary has "
                            + scores.length + " tokens");
                int prefix = seq.length - 1;
                if (prefix > h.length()) continue;
                boolean match = true;
                for (int j = 0; j < prefix && match; j++) match = h.get(h.length() - prefix + j) == seq[j];
                if (match) bias[last] += biases.get(s);
            }
            for (int i = 0; i < scores.length; i++) scores[i] += bias[i];
        }
    }

    /** transformers' MinNewTokensLengthLogitsProcessor: EOS ids get -inf until {@code min} tokens are generated. */
    public record MinNewTokens(int min, List<Integer> eos) implements LogitsProcessor {
        @Override
        public void process(TokenHistory h, float[] scores) {
            if (h.generatedLength() < min) for (int id : eos) if (id < scores.length) scores[id] = NEG_INF;
        }
    }

    /** transformers' ForcedBOSTokenLogitsProcessor: when the history is one token, only {@code id} is allowed. */
    public record ForcedBos(int id) implements LogitsProcessor {
        @Override
        public void process(TokenHistory h, float[] scores) {
            if (h.length() == 1) force(scores, id);
        }
    }

    /** transformers' ForcedEOSTokenLogitsProcessor: the last token before max_length must be {@code id}. */
    public record ForcedEos(int id) implements LogitsProcessor {
        @Override
        public void process(TokenHistory h, float[] scores) {
            if (h.length() == h.maxLength() - 1) force(scores, id);
        }
    }

    private static void force(float[] scores, int id) {
        java.util.Arrays.fill(scores, NEG_INF);
        if (id < scores.length) scores[id] = 0f;
    }
}
