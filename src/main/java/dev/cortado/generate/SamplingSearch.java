package dev.cortado.generate;

import dev.cortado.CortadoException;

import java.util.ArrayList;
import java.util.List;

/**
 * Greedy decoding and seeded sampling for a batch of prompts (left-padded into one session), streaming each token.
 * Result j of prompt i draws from {@code Xoshiro256(seed, j)}, so a prompt gives the same tokens alone or in a
 * batch. A finished row keeps being fed the padding id until all rows finish; its outputs are ignored.
 */
final class SamplingSearch {
    private SamplingSearch() {}

    private static final class Row {
        final int result;
        final TokenHistory history;
        final TextStream text;
        final List<TokenLogprob> logprobs = new ArrayList<>();
        final Xoshiro256 rng;
        double score;
        FinishReason finish;

        Row(int result, TokenHistory history, TextStream text, Xoshiro256 rng) {
            this.result = result;
            this.history = history;
            this.text = text;
            this.rng = rng;
        }
    }

    static List<GenerationResult> run(Job job) {
        GenerationConfig cfg = job.config();
        int n = cfg.sampling() ? cfg.numReturnSequences() : 1;
        int rows = job.prompts().length * n;
        int[] promptOf = new int[rows];
        Row[] state = new Row[rows];
        for (int r = 0; r < rows; r++) {
            int p = r / n;
            promptOf[r] = p;
            TextStream text = job.tokenizer() == null ? null : new TextStream(job.tokenizer(), cfg.stopStrings());
            state[r] = new Row(r, new TokenHistory(job.prompts()[p], job.maxLengths()[p]), text,
                    new Xoshiro256(cfg.seed(), r % n));
            if (state[r].history.length() >= state[r].history.maxLength()) finish(job, state[r], -1, null, FinishReason.LENGTH);
        }
        if (anyRunning(state)) decode(job, state, promptOf);
        List<GenerationResult> out = new ArrayList<>(rows);
        for (Row row : state) {
            String text = row.text == null ? null : row.text.text();
            out.add(new GenerationResult(text, row.history.generated(), row.finish, (float) row.score,
                    cfg.logprobs() == null ? List.of() : row.logprobs));
        }
        return out;
    }

    private static void decode(Job job, Row[] state, int[] promptOf) {
        GenerationConfig cfg = job.config();
        LogitsProcessorChain chain = LogitsProcessorChain.of(cfg, job.tokenizer(), job.model().logitsProcessors());
        boolean sampling = cfg.sampling();
        int vocab = job.model().vocabSize();
        // greedy with nothing to process: the backend picks, only ids and their log-probabilities reach the host
        boolean onBackend = !sampling && chain.isEmpty() && cfg.logprobs() == null;
        try (DecoderSession session = job.model().newSession(state.length)) {
            Object[] padded = job.leftPadded(promptOf);
            if (onBackend) {
                greedy(job, state, session, session.stepGreedy((int[][]) padded[0], (boolean[][]) padded[1]));
                return;
            }
            float[][] logits = session.step((int[][]) padded[0], (boolean[][]) padded[1]);
            while (true) {
                int[][] next = new int[state.length][1];
                for (int r = 0; r < state.length; r++) {
                    Row row = state[r];
                    if (row.finish != null) {
                        next[r][0] = job.pad();
                        continue;
                    }
                    float[] raw = logits[r];
                    if (raw.length != vocab)
                        throw new CortadoException("model returned " + raw.length + " logits, vocabulary is " + vocab);
                    float[] scores = raw.clone();
                    chain.process(row.history, scores);
                    int id = sampling ? Sampler.sample(scores, row.rng) : Sampler.argmax(scores);
                    next[r][0] = id;
                    accept(job, row, id, raw);
                }
                if (!anyRunning(state)) return;
                logits = session.step(next, null);
            }
        }
    }

    /** The greedy loop over backend picks ({@link DecoderSession#stepGreedy}); rows finish as in {@link #decode}. */
    private static void greedy(Job job, Row[] state, DecoderSession session, dev.cortado.backend.Greedy picks) {
        while (true) {
            int[][] next = new int[state.length][1];
            for (int r = 0; r < state.length; r++) {
                Row row = state[r];
                if (row.finish != null) {
                    next[r][0] = job.pad();
                    continue;
                }
                int id = picks.ids()[r];
                if (id < 0 || id >= job.model().vocabSize())
                    throw new CortadoException("model picked token " + id + ", vocabulary is " + job.model().vocabSize());
                next[r][0] = id;
                accept(job, row, id, null, picks.logprobs()[r]);
            }
            if (!anyRunning(state)) return;
            picks = session.stepGreedy(next, null);
        }
    }

    private static void accept(Job job, Row row, int id, float[] raw) {
        accept(job, row, id, raw, Float.NaN);
    }

    /** raw null: {@code logprob} is the chosen token's log-probability (a backend greedy pick). */
    private static void accept(Job job, Row row, int id, float[] raw, float logprob) {
        GenerationConfig cfg = job.config();
        row.history.append(id);
        TokenLogprob lp = null;
        if (cfg.logprobs() != null) {
            lp = Logprobs.of(raw, id, cfg.logprobs(), job.tokenizer());
            row.logprobs.add(lp);
            row.score += lp.logprob();
        } else {
            row.score += raw == null ? logprob : Logprobs.of(raw, id);
        }
        if (job.eos().contains(id)) {
            finish(job, row, id, lp, FinishReason.EOS);
            return;
        }
        String delta = row.text == null ? null : row.text.push(id);
        if (row.text != null && row.text.stopped()) {
            row.finish = FinishReason.STOP;
            job.emit(new GeneratedToken(row.result, id, delta, lp, FinishReason.STOP));
        } else if (row.history.length() >= row.history.maxLength()) {
            row.finish = FinishReason.LENGTH;
            String rest = row.text == null ? null : delta + row.text.flush();
            job.emit(new GeneratedToken(row.result, id, rest, lp, FinishReason.LENGTH));
        } else {
            job.emit(new GeneratedToken(row.result, id, delta, lp, null));
        }
    }

    /** Ends a row; {@code id} < 0 when it ends before generating anything. */
    private static void finish(Job job, Row row, int id, TokenLogprob lp, FinishReason reason) {
        row.finish = reason;
        String rest = row.text == null ? null : row.text.flush();
        if (id >= 0) job.emit(new GeneratedToken(row.result, id, rest, lp, reason));
    }

    private static boolean anyRunning(Row[] state) {
        for (Row r : state) if (r.finish == null) return true;
        return false;
    }
}
