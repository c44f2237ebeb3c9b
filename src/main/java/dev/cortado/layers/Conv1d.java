package dev.cortado.layers;

import dev.cortado.backend.Backend;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;

/**
 * 1-D convolution over time-major activations [B, T, Cin] → [B, Tout, Cout] (Whisper's conv stem), written as
 * im2col (row copies on the backend) + one {@link Linear}. The weight is bound once from PyTorch's
 * [Cout, Cin, K] as a Linear over rows laid out (k, c).
 */
public record Conv1d(Linear linear, int inChannels, int kernel, int stride, int padding) {

    /** PyTorch Conv1d weight [Cout, Cin, K] (host) and optional bias [Cout]. */
    public static Conv1d of(Backend be, Tensor weight, Tensor bias, int stride, int padding) {
        int out = (int) weight.dim(0), in = (int) weight.dim(1), k = (int) weight.dim(2);
        float[] w = weight.toFloatArray();
        float[] outIn = new float[out * k * in];
        for (int o = 0; o < out; o++)
            for (int c = 0; c < in; c++)
                for (int j = 0; j < k; j++) outIn[o * k * in + j * in + c] = w[(o * in + c) * k + j];
        Tensor b = bias == null ? null : be.weight(Tensor.of(bias.toFloatArray(), out));
        return new Conv1d(new Linear(be.weightTransposed(Tensor.of(outIn, out, (long) k * in)), b), in, k, stride, padding);
    }

    public int outLength(int t) {
        return (t + 2 * padding - kernel) / stride + 1;
    }

    /** x [B, T, Cin] → [B, Tout, Cout]. */
    public Tensor forward(Backend be, Tensor x) {
        int batch = (int) x.dim(0), t = (int) x.dim(1), tOut = outLength(t);
        long row = inChannels * be.elementBytes(x.dtype());
        Tensor cols = be.allocate(DType.F32, batch, tOut, (long) kernel * inChannels);
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < tOut; i++) {
                for (int j = 0; j < kernel; j++) {
                    int src = i * stride - padding + j;
                    if (src < 0 || src >= t) continue; // zero padding: cols starts zero-filled
                    be.copy(x, ((long) b * t + src) * row, cols, (((long) b * tOut + i) * kernel + j) * row, row);
                }
            }
        }
        return linear.forward(be, cols);
    }
}
