package dev.cortado.generate;

import dev.cortado.CortadoException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Beam search with the semantics of Hugging Face transformers 5.x {@code GenerationMixin._beam_search}: beam
 * scores are sums of processed log-softmax(logits); each step keeps the top K = max(2, 1 + #eos) * num_beams
 * continuations over all beams; a continuation that hits EOS or the length limit is a finished candidate only if it
 * ranks within the first num_beams, scored sum / generated_length ** length_penalty (generated_length counts the
 * tokens after the prompt, EOS included; for seq2seq after the decoder start/prefix, as transformers does for both);
 * the best num_beams unfinished ones run on; {@code early_stopping} TRUE / FALSE / NEVER stop as transformers'
 * {@code _check_early_stop_heuristic} and {@code _beam_search_has_unfinished_sequences}. Scores are float32 sums, as
 * in transformers. Results come best first, num_return_sequences per prompt. Beams fork with
 * {@link DecoderSession#reorder}.
 */
final class BeamSearch {
    private static final float BIG = -1.0e9f;

    private BeamSearch() {}

    private record Hyp(TokenHistory history, float score, boolean finished, List<TokenLogprob> logprobs) {}

    private static final class Item {
        final int prompt;
        final int promptLength;
        final int maxLength;
        TokenHistory[] running;
        float[] runScores;
        List<TokenLogprob>[] runLogprobs;
        Hyp[] finished;
        boolean unsatisfied = true;
        boolean done;
        boolean allHit;

        Item(int prompt, int[] ids, int maxLength, int beams) {
            this.prompt = prompt;
            this.promptLength = ids.length;
            this.maxLength = maxLength;
            running = new TokenHistory[beams];
            runScores = new float[beams];
            runLogprobs = newLists(beams);
            finished = new Hyp[beams];
            for (int b = 0; b < beams; b++) {
                running[b] = new TokenHistory(ids, maxLength);
                runScores[b] = b == 0 ? 0f : BIG;
                finished[b] = new Hyp(running[b], BIG, false, List.of());
            }
            done = promptLength >= maxLength;
        }

        boolean allFinished() {
            for (Hyp h : finished) if (!h.finished) return false;
            return true;
        }
    }

    @SuppressWarnings("unchecked")
    private static List<TokenLogprob>[] newLists(int n) {
        List<TokenLogprob>[] a = new List[n];
        for (int i = 0; i < n; i++) a[i] = new ArrayList<>();
        return a;
    }

    static List<GenerationResult> run(Job job) {
        GenerationConfig cfg = job.config();
        int beams = cfg.numBeams();
        Item[] items = new Item[job.prompts().length];
        for (int i = 0; i < items.length; i++) items[i] = new Item(i, job.prompts()[i], job.maxLengths()[i], beams);
        if (Arrays.stream(items).anyMatch(it -> !it.done)) search(job, items);
        List<GenerationResult> out = new ArrayList<>();
        for (Item it : items) {
            for (int j = 0; j < cfg.numReturnSequences(); j++) out.add(result(job, it, j, out.size()));
        }
        return out;
    }

    private static void search(Job job, Item[] items) {
        GenerationConfig cfg = job.config();
        int beams = cfg.numBeams();
        int vocab = job.model().vocabSize();
        int k = Math.max(2, 1 + job.eos().size()) * beams;
        if (k > beams * vocab) throw new CortadoException("beam search needs " + k + " candidates but only "
                + beams * vocab + " exist (num_beams too large for the vocabulary)");
        LogitsProcessorChain chain = LogitsProcessorChain.of(cfg, job.tokenizer(), job.model().logitsProcessors());
        int rows = items.length * beams;
        int[] promptOf = new int[rows];
        for (int r = 0; r < rows; r++) promptOf[r] = r / beams;
        float[] cand = new float[beams * vocab], lp = new float[vocab];   // per-step scratch, reused
        try (DecoderSession session = job.model().newSession(rows)) {
            Object[] padded = job.leftPadded(promptOf);
            float[][] logits = session.step((int[][]) padded[0], (boolean[][]) padded[1]);
            while (true) {
                int[] sources = new int[rows];
                int[][] next = new int[rows][1];
                for (int i = 0; i < items.length; i++) {
                    Item it = items[i];
                    int[] src = it.done ? null : step(job, chain, it, logits, i * beams, k, vocab, cand, lp);
                    for (int b = 0; b < beams; b++) {
                        sources[i * beams + b] = i * beams + (src == null ? b : src[b]);
                        next[i * beams + b][0] = src == null ? job.pad() : it.running[b].last();
                    }
                }
                if (Arrays.stream(items).allMatch(it -> it.done)) return;
                session.reorder(sources);
                logits = session.step(next, null);
            }
        }
    }

    /** One step of one prompt; returns the source beam of each new running beam. */
    private static int[] step(Job job, LogitsProcessorChain chain, Item it, float[][] logits, int row0, int k,
                              int vocab, float[] cand, float[] lp) {
        GenerationConfig cfg = job.config();
        int beams = it.running.length;
        float[][] raw = new float[beams][];
        for (int b = 0; b < beams; b++) {
            raw[b] = logits[row0 + b];
            if (raw[b].length != vocab)
                throw new CortadoException("model returned " + raw[b].length + " logits, vocabulary is " + vocab);
            Warpers.logSoftmax(raw[b], lp);
            chain.process(it.running[b], lp);
            float run = it.runScores[b];
            for (int v = 0, o = b * vocab; v < vocab; v++) cand[o + v] = lp[v] + run;
        }
        int[] top = topK(cand, k);
        TokenHistory[] hist = new TokenHistory[k];
        List<TokenLogprob>[] lps = new List[k];
        boolean[] hits = new boolean[k];
        float[] score = new float[k];
        int[] srcBeam = new int[k];
        boolean allHit = true;
        for (int c = 0; c < k; c++) {
            int beam = top[c] / vocab, tok = top[c] % vocab;
            srcBeam[c] = beam;
            score[c] = cand[top[c]];
            hist[c] = it.running[beam].copy();
            hist[c].append(tok);
            lps[c] = new ArrayList<>(it.runLogprobs[beam]);
            if (cfg.logprobs() != null) lps[c].add(Logprobs.of(raw[beam], tok, cfg.logprobs(), job.tokenizer()));
            hits[c] = job.eos().contains(tok) || hist[c].length() >= it.maxLength || hitsStop(job, hist[c]);
            allHit &= hits[c];
        }
        // e. the best num_beams continuations that did not finish run on
        float[] runCand = new float[k];
        for (int c = 0; c < k; c++) runCand[c] = hits[c] ? score[c] + BIG : score[c];
        int[] keep = topK(runCand, beams);
        TokenHistory[] running = new TokenHistory[beams];
        float[] runScores = new float[beams];
        List<TokenLogprob>[] runLps = new List[beams];
        int[] src = new int[beams];
        for (int b = 0; b < beams; b++) {
            running[b] = hist[keep[b]];
            runScores[b] = runCand[keep[b]];
            runLps[b] = lps[keep[b]];
            src[b] = srcBeam[keep[b]];
        }
        // f. finished candidates among the first num_beams, merged with the finished so far
        int generated = hist[0].length() - it.promptLength;
        float norm = (float) Math.pow(generated, Warpers.decimal(cfg.lengthPenalty()));
        boolean full = it.allFinished() && cfg.earlyStopping() == EarlyStopping.TRUE;
        Hyp[] merged = Arrays.copyOf(it.finished, beams + k);
        float[] mergedScores = new float[beams + k];
        for (int b = 0; b < beams; b++) mergedScores[b] = it.finished[b].score;
        for (int c = 0; c < k; c++) {
            float s = score[c] / norm;
            if (full) s += BIG;
            if (!it.unsatisfied) s += BIG;
            boolean just = hits[c] && c < beams;
            if (!just) s += BIG;
            merged[beams + c] = new Hyp(hist[c], s, just, lps[c]);
            mergedScores[beams + c] = s;
        }
        int[] best = topK(mergedScores, beams);
        Hyp[] finished = new Hyp[beams];
        for (int b = 0; b < beams; b++) {
            Hyp h = merged[best[b]];
            finished[b] = new Hyp(h.history, mergedScores[best[b]], h.finished, h.logprobs);
        }
        it.running = running;
        it.runScores = runScores;
        it.runLogprobs = runLps;
        it.finished = finished;
        // g. can this prompt still improve? (transformers' _check_early_stop_heuristic after cur_len += 1)
        int len = cfg.earlyStopping() == EarlyStopping.NEVER && cfg.lengthPenalty() > 0f
                ? it.maxLength - it.promptLength : running[0].length() - it.promptLength;
        float bestPossible = runScores[0] / (float) Math.pow(len, Warpers.decimal(cfg.lengthPenalty()));
        boolean allFinished = it.allFinished();
        float minFinished = Float.POSITIVE_INFINITY;
        for (Hyp h : finished) minFinished = Math.min(minFinished, h.score);
        boolean improvable = false;
        for (Hyp h : finished) improvable |= bestPossible > (h.finished ? minFinished : BIG);
        it.unsatisfied &= improvable;
        it.done = !it.unsatisfied || (allFinished && cfg.earlyStopping() == EarlyStopping.TRUE) || allHit;
        return src;
    }

    private static boolean hitsStop(Job job, TokenHistory h) {
        if (job.tokenizer() == null || job.config().stopStrings().isEmpty()) return false;
        String text = job.tokenizer().decode(h.generated(), true);
        for (String s : job.config().stopStrings()) if (text.contains(s)) return true;
        return false;
    }

    /**
     * Indices of the k largest values, largest first; ties: lower index first. One pass keeping the best k in order
     * (insertion into a k-long list, most values rejected by one compare against the k-th): O(n + k²) with no boxing,
     * the same order as a stable sort by (value descending, index ascending).
     */
    static int[] topK(float[] v, int k) {
        int n = v.length;
        if (k > n) throw new IllegalArgumentException("top " + k + " of " + n + " values");
        int[] out = new int[k];
        int size = 0;
        for (int i = 0; i < n; i++) {
            float x = v[i];
            if (size == k) {
                float kth = v[out[k - 1]];
                // i comes after every kept index, so it wins only on a strictly better value
                if (x < kth) continue;
                if (!(x > kth) && (x == kth || Float.compare(x, kth) <= 0)) continue;
            }
            int j = size < k ? size++ : k - 1;
            while (j > 0 && better(v, i, out[j - 1])) {
                out[j] = out[j - 1];
                j--;
            }
            out[j] = i;
        }
        return out;
    }

    /** The sort order of {@link #topK}: a before b when its value is larger, or equal (==) with a lower index. */
    private static boolean better(float[] v, int a, int b) {
        return v[a] != v[b] ? Float.compare(v[a], v[b]) > 0 : a < b;
    }

    private static GenerationResult result(Job job, Item it, int j, int index) {
        Hyp h = it.finished[j];
        int[] ids = it.promptLength >= it.maxLength ? new int[0] : h.history.generated();
        FinishReason reason = FinishReason.LENGTH;
        int textEnd = ids.length;
        if (ids.length > 0 && job.eos().contains(ids[ids.length - 1])) {
            reason = FinishReason.EOS;
            textEnd--;
        }
        String text = null;
        if (job.tokenizer() != null) {
            TextStream ts = new TextStream(job.tokenizer(), job.config().stopStrings());
            StringBuilder sb = new StringBuilder();
            for (int t = 0; t < ids.length; t++) {
                boolean last = t == ids.length - 1;
                String delta = t < textEnd ? ts.push(ids[t]) : "";
                if (ts.stopped()) reason = FinishReason.STOP;
                if (last || ts.stopped()) delta += ts.flush();
                sb.append(delta);
                TokenLogprob lp = job.config().logprobs() == null ? null : h.logprobs.get(t);
                job.emit(new GeneratedToken(index, ids[t], delta, lp, last || ts.stopped() ? reason : null));
                if (ts.stopped()) break;
            }
            text = ts.text();
        } else if (job.sink() != null) {
            for (int t = 0; t < ids.length; t++) {
                TokenLogprob lp = job.config().logprobs() == null ? null : h.logprobs.get(t);
                job.emit(new GeneratedToken(index, ids[t], null, lp, t == ids.length - 1 ? reason : null));
            }
        }
        float score = it.promptLength >= it.maxLength ? 0f : h.score;
        return new GenerationResult(text, ids, reason, score,
                job.config().logprobs() == null ? List.of() : h.logprobs);
    }
}
