package dev.cortado.generate;

/**
 * Whisper's generation rules, each matching its transformers namesake; {@code begin index} is the decoder prompt
 * length ({@link TokenHistory#promptLength()}: start-of-transcript, language, task, [no-timestamps]). transformers
 * runs them in this order: SuppressTokensAtBegin, SuppressTokens, WhisperTimeStamp.
 */
public final class WhisperProcessors {
    private WhisperProcessors() {}

    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    /** SuppressTokensLogitsProcessor: these ids are never generated. */
    public record SuppressTokens(int[] ids) implements LogitsProcessor {
        @Override
        public void process(TokenHistory h, float[] scores) {
            for (int id : ids) if (id >= 0 && id < scores.length) scores[id] = NEG_INF;
        }
    }

    /** SuppressTokensAtBeginLogitsProcessor: these ids are not the first generated token. */
    public record SuppressTokensAtBegin(int[] ids) implements LogitsProcessor {
        @Override
        public void process(TokenHistory h, float[] scores) {
            if (h.length() == h.promptLength()) for (int id : ids) if (id >= 0 && id < scores.length) scores[id] = NEG_INF;
        }
    }

    /**
     * WhisperTimeStampLogitsProcessor: no-timestamps is banned; timestamps come in pairs (after a lone timestamp only
     * a timestamp or EOS, after a pair only text); timestamps do not decrease (and a pair's end is not repeated); the
     * first token is a timestamp ≤ begin + max_initial_timestamp_index; and when the total probability of the
     * timestamps exceeds that of the likeliest text token, a timestamp is forced.
     */
    public record Timestamps(int noTimestampsId, int eosId, Integer maxInitialTimestampIndex) implements LogitsProcessor {
        public int timestampBegin() {
            return noTimestampsId + 1;
        }

        @Override
        public void process(TokenHistory h, float[] s) {
            int begin = timestampBegin(), v = s.length, start = h.promptLength(), n = h.length() - start;
            s[noTimestampsId] = NEG_INF;
            boolean last = n >= 1 && h.get(h.length() - 1) >= begin;
            boolean penultimate = n < 2 || h.get(h.length() - 2) >= begin;
            if (last) {
                if (penultimate) fill(s, begin, v);
                else fill(s, 0, eosId);
            }
            int lastTs = -1;
            for (int i = start; i < h.length(); i++) if (h.get(i) >= begin) lastTs = h.get(i);
            if (lastTs >= 0) {
                int upTo = last && !penultimate ? lastTs : lastTs + 1;
                fill(s, begin, Math.min(upTo, v));
            }
            if (n == 0) {
                fill(s, 0, begin);
                if (maxInitialTimestampIndex != null) fill(s, Math.min(begin + maxInitialTimestampIndex + 1, v), v);
            }
            // timestamp probability rule (log-softmax over the processed scores, as transformers does in float32)
            float max = NEG_INF;
            for (float x : s) max = Math.max(max, x);
            if (max == NEG_INF) return;
            double sum = 0, tsSum = 0;
            float maxText = NEG_INF;
            for (int i = 0; i < v; i++) {
                double e = Math.exp(s[i] - max);
                sum += e;
                if (i >= begin) tsSum += e;
                else maxText = Math.max(maxText, s[i]);
            }
            double lse = max + Math.log(sum);
            double tsLogprob = tsSum > 0 ? max + Math.log(tsSum) - lse : Double.NEGATIVE_INFINITY;
            double textLogprob = maxText == NEG_INF ? Double.NEGATIVE_INFINITY : maxText - lse;
            if (tsLogprob > textLogprob) fill(s, 0, begin);
        }

        private static void fill(float[] s, int from, int to) {
            for (int i = Math.max(0, from); i < to; i++) s[i] = NEG_INF;
        }
    }
}
