package dev.cortado.generate;

import dev.cortado.CortadoException;
import dev.cortado.backend.Choices;
import dev.cortado.backend.TokenChoice;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

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

    /**
     * Every pass goes through the backend's token choice ({@link DecoderSession#choose}): the processors, the argmax
     * or the seeded draw run there, and only ids and log-probabilities (the top alternatives when asked) come back.
     */
    private static void decode(Job job, Row[] state, int[] promptOf) {
        GenerationConfig cfg = job.config();
        LogitsProcessorChain chain = LogitsProcessorChain.of(cfg, job.tokenizer(), job.model().logitsProcessors());
        int vocab = job.model().vocabSize();
        int top = cfg.logprobs() == null ? -1 : cfg.logprobs();
        TokenChoice.RowProcessor processors = chain.isEmpty() ? null : (r, s) -> chain.process(state[r].history, s);
        IntFunction<TokenChoice.DeviceRow> device = DeviceRows.of(chain, r -> state[r].history);
        try (DecoderSession session = job.model().newSession(state.length)) {
            Object[] padded = job.leftPadded(promptOf);
            int[][] tokens = (int[][]) padded[0];
            boolean[][] valid = (boolean[][]) padded[1];
            while (true) {
                boolean[] active = new boolean[state.length];
                for (int r = 0; r < state.length; r++) active[r] = state[r].finish == null;
                TokenChoice choice = cfg.sampling()
                        ? TokenChoice.sample(processors, device, r -> state[r].rng::nextDouble, active, top)
                        : TokenChoice.greedy(processors, device, active, top);
                Choices picks = session.choose(tokens, valid, choice);
                int[][] next = new int[state.length][1];
                for (int r = 0; r < state.length; r++) {
                    if (!active[r]) {
                        next[r][0] = job.pad();
                        continue;
                    }
                    int id = picks.ids()[r];
                    if (id < 0 || id >= vocab)
                        throw new CortadoException("model picked token " + id + ", vocabulary is " + vocab);
                    next[r][0] = id;
                    TokenLogprob lp = top < 0 ? null : Logprobs.of(picks, r, id, job.tokenizer());
                    accept(job, state[r], id, lp, picks.logprobs()[r]);
                }
                if (!anyRunning(state)) return;
                tokens = next;
                valid = null;
            }
        }
    }

    /** {@code lp}: the logprobs entry when asked (null otherwise); {@code logprob}: the token's raw log-probability. */
    private static void accept(Job job, Row row, int id, TokenLogprob lp, float logprob) {
        row.history.append(id);
        if (lp != null) {
            row.logprobs.add(lp);
            row.score += lp.logprob();
        } else {
            row.score += logprob;
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
