package dev.cortado.generate;

import dev.cortado.CortadoException;
import dev.cortado.backend.Choices;
import dev.cortado.backend.Selection;
import dev.cortado.backend.TokenChoice;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;

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
        int top = cfg.logprobs() == null ? -1 : cfg.logprobs();
        TokenChoice.RowProcessor processors = chain.isEmpty() ? null
                : (r, lp) -> chain.process(items[r / beams].running[r % beams], lp);
        IntFunction<TokenChoice.DeviceRow> device = DeviceRows.of(chain, r -> items[r / beams].running[r % beams]);
        try (DecoderSession session = job.model().newSession(rows)) {
            Object[] padded = job.leftPadded(promptOf);
            int[][] tokens = (int[][]) padded[0];
            boolean[][] valid = (boolean[][]) padded[1];
            while (true) {
                // a. the backend: processed log-softmax + running score, the top k of beams × vocab per prompt
                boolean[] active = new boolean[rows];
                float[] runScores = new float[rows];
                for (int r = 0; r < rows; r++) {
                    active[r] = !items[r / beams].done;
                    runScores[r] = items[r / beams].runScores[r % beams];
                }
                Choices choices = session.choose(tokens, valid,
                        TokenChoice.beam(processors, device, active, beams, k, runScores, top));
                int[] sources = new int[rows];
                int[][] next = new int[rows][1];
                for (int i = 0; i < items.length; i++) {
                    Item it = items[i];
                    int[] src = it.done ? null : step(job, it, choices, i, k, vocab);
                    for (int b = 0; b < beams; b++) {
                        sources[i * beams + b] = i * beams + (src == null ? b : src[b]);
                        next[i * beams + b][0] = src == null ? job.pad() : it.running[b].last();
                    }
                }
                if (Arrays.stream(items).allMatch(it -> it.done)) return;
                session.reorder(sources);
                tokens = next;
                valid = null;
            }
        }
    }

    /** One step of prompt {@code group} from its k candidates; returns the source beam of each new running beam. */
    private static int[] step(Job job, Item it, Choices choices, int group, int k, int vocab) {
        GenerationConfig cfg = job.config();
        int beams = it.running.length;
        TokenHistory[] hist = new TokenHistory[k];
        List<TokenLogprob>[] lps = new List[k];
        boolean[] hits = new boolean[k];
        float[] score = new float[k];
        int[] srcBeam = new int[k];
        boolean allHit = true;
        for (int c = 0; c < k; c++) {
            int at = group * k + c, beam = choices.sources()[at], tok = choices.ids()[at];
            if (beam < 0 || beam >= beams || tok < 0 || tok >= vocab)
                throw new CortadoException("backend returned beam candidate " + tok + " of beam " + beam
                        + " (vocabulary " + vocab + ", " + beams + " beams)");
            srcBeam[c] = beam;
            score[c] = choices.scores()[at];
            hist[c] = it.running[beam].copy();
            hist[c].append(tok);
            lps[c] = new ArrayList<>(it.runLogprobs[beam]);
            if (cfg.logprobs() != null)
                lps[c].add(Logprobs.of(choices, group * beams + beam, tok, choices.logprobs()[at], job.tokenizer()));
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

    /** Indices of the k largest values, largest first; ties: lower index first (a primitive heap selection). */
    static int[] topK(float[] v, int k) {
        return Selection.topK(v, k);
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
