package dev.cortado.backend.cuda;

import dev.cortado.CortadoException;
import dev.cortado.backend.TokenChoice;
import dev.cortado.backend.TokenChoice.DeviceRow;

import java.util.Arrays;

/**
 * One step's token-choice parameters packed into ONE int32 array, uploaded with one host → device copy
 * ({@link CudaSampling}). Layout, rows values per column, then per-row lists padded to the widest row with -1:
 * <pre>
 *   columns [rows] × 9: repetition penalty f32 | temperature f32 (BEAM: running score) | top-p f32 | uniform f32 |
 *                      top-k i32 | presence f32 | frequency f32 | min-p f32 | typical-p f32
 *   lists   [rows × w]: seen ids (repetition penalty) | banned ids | bias ids | bias values f32 | count ids | counts
 * </pre>
 * so a step uploads 4 · rows · (9 + seenW + banW + 2 · biasW + 2 · countW) bytes: the presence/frequency penalties go
 * as sparse (id, count) pairs of the generated tokens, the logit bias as (id, bias) pairs, never a vocab-wide array.
 */
final class CudaSamplingParams {
    static final int COLUMNS = 9;
    static final int PENALTY = 0, TEMPERATURE = 1, BEAM_SCORE = 1, TOP_P = 2, UNIFORM = 3, TOP_K = 4, PRESENCE = 5,
            FREQUENCY = 6, MIN_P = 7, TYPICAL_P = 8;

    final int rows, seenW, banW, biasW, countW;
    final int[] packed;
    final boolean temperatures, counts, minP, typicalP;

    private CudaSamplingParams(int rows, int seenW, int banW, int biasW, int countW, boolean temperatures, boolean counts,
                           boolean minP, boolean typicalP) {
        this.rows = rows;
        this.seenW = seenW;
        this.banW = banW;
        this.biasW = biasW;
        this.countW = countW;
        this.temperatures = temperatures;
        this.counts = counts;
        this.minP = minP;
        this.typicalP = typicalP;
        this.packed = new int[rows * (COLUMNS + seenW + banW + 2 * biasW + 2 * countW)];
    }

    /** The rows' device forms ({@link DeviceRow#NONE} for an inactive row or no processors). */
    static DeviceRow[] rows(TokenChoice c, int rows) {
        DeviceRow[] dr = new DeviceRow[rows];
        for (int r = 0; r < rows; r++)
            dr[r] = c.processors() == null || !c.isActive(r) ? DeviceRow.NONE : c.device().apply(r);
        return dr;
    }

    static CudaSamplingParams pack(TokenChoice c, DeviceRow[] dr, int vocab) {
        int rows = dr.length, seenW = 0, banW = 0, biasW = 0, countW = 0;
        boolean temps = false, counts = false, minP = false, typical = false;
        for (DeviceRow d : dr) {
            if (d.repetitionPenalty() != 1f) seenW = Math.max(seenW, d.seen().length);
            banW = Math.max(banW, d.banned().length);
            biasW = Math.max(biasW, d.biasIds().length);
            if (d.penalizesCounts()) {
                countW = Math.max(countW, d.countIds().length);
                counts = true;
            }
            temps |= d.temperature() != 1f;
            minP |= d.minP() > 0f;
            typical |= d.typicalP() < 1f;
            for (int id : d.biasIds())
                if (id >= vocab) throw new CortadoException("bias for token " + id + " but the model's vocabulary has "
                        + vocab + " tokens");
        }
        CudaSamplingParams p = new CudaSamplingParams(rows, seenW, banW, biasW, countW, temps, counts, minP, typical);
        int[] a = p.packed;
        Arrays.fill(a, rows * COLUMNS, a.length, -1);
        boolean beam = c.mode() == TokenChoice.Mode.BEAM;
        for (int r = 0; r < rows; r++) {
            DeviceRow d = dr[r];
            a[PENALTY * rows + r] = bits(d.repetitionPenalty());
            a[TEMPERATURE * rows + r] = bits(beam ? c.beamScores()[r] : d.temperature());
            a[TOP_P * rows + r] = bits(d.topP());
            float u = c.mode() == TokenChoice.Mode.SAMPLE && c.isActive(r) ? (float) c.uniforms().apply(r).getAsDouble() : 0f;
            a[UNIFORM * rows + r] = bits(u);
            a[TOP_K * rows + r] = d.topK();
            a[PRESENCE * rows + r] = bits(d.penalizesCounts() ? d.presence() : 0f);
            a[FREQUENCY * rows + r] = bits(d.penalizesCounts() ? d.frequency() : 0f);
            a[MIN_P * rows + r] = bits(d.minP());
            a[TYPICAL_P * rows + r] = bits(d.typicalP());
            if (d.repetitionPenalty() != 1f) System.arraycopy(d.seen(), 0, a, p.seen() + r * seenW, d.seen().length);
            System.arraycopy(d.banned(), 0, a, p.banned() + r * banW, d.banned().length);
            System.arraycopy(d.biasIds(), 0, a, p.biasIds() + r * biasW, d.biasIds().length);
            for (int i = 0; i < d.biasValues().length; i++) a[p.biasValues() + r * biasW + i] = bits(d.biasValues()[i]);
            if (d.penalizesCounts()) {
                System.arraycopy(d.countIds(), 0, a, p.countIds() + r * countW, d.countIds().length);
                System.arraycopy(d.counts(), 0, a, p.counts() + r * countW, d.counts().length);
            }
        }
        return p;
    }

    private static int bits(float f) {
        return Float.floatToRawIntBits(f);
    }

    /** Bytes of the one upload. */
    long bytes() {
        return 4L * packed.length;
    }

    /** Byte offset of column {@code c} in the upload. */
    long column(int c) {
        return 4L * rows * c;
    }

    /** Int offsets of the lists. */
    int seen() { return rows * COLUMNS; }

    int banned() { return seen() + rows * seenW; }

    int biasIds() { return banned() + rows * banW; }

    int biasValues() { return biasIds() + rows * biasW; }

    int countIds() { return biasValues() + rows * biasW; }

    int counts() { return countIds() + rows * countW; }

    /** Whether any processor edits the logits before the pick (a scratch copy is needed). */
    boolean edits() {
        return seenW > 0 || banW > 0 || biasW > 0 || counts || temperatures;
    }
}
