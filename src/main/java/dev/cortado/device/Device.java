package dev.cortado.device;

import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.backend.Quantization;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.backend.cuda.CudaBackend;
import dev.cortado.backend.cuda.CudaDriver;
import dev.cortado.tensor.DType;

/**
 * Where a model runs: {@code cpu} or {@code cuda[:N]}, and whether its float linear weights are quantized at load
 * ({@code --quantize}; {@link Quantization#NONE} by default).
 */
public record Device(String kind, int index, Quantization quantization) {
    public Device(String kind, int index) {
        this(kind, index, Quantization.NONE);
    }

    public static Device cpu() {
        return new Device("cpu", 0);
    }

    public static Device cuda(int index) {
        return new Device("cuda", index);
    }

    /** This device with load-time quantization ({@code --quantize int8|int4}, {@code --quantize-all}). */
    public Device withQuantization(Quantization q) {
        return new Device(kind, index, q == null ? Quantization.NONE : q);
    }

    public static Device parse(String s) {
        if (s == null || s.equals("cpu")) return cpu();
        if (s.equals("cuda")) return cuda(0);
        if (s.matches("cuda:\\d+")) return cuda(Integer.parseInt(s.substring(5)));
        throw new CortadoException("unknown device '" + s + "' (use cpu or cuda[:N])");
    }

    public boolean isCuda() {
        return kind.equals("cuda");
    }

    /** A new fp32 backend for this device (the caller owns it and closes it; models close their backend). */
    public Backend backend() {
        return backend(DType.F32);
    }

    /**
     * A new backend for this device: CPU → {@link CpuBackend} (float32 activations; BF16 stores linear weights as
     * bfloat16, F16 is refused), CUDA →
     * {@link CudaBackend} storing weights, activations and the KV cache as {@code dtype} (F32, F16 or BF16).
     * Without a CUDA driver: a {@link CortadoException} "no CUDA driver found: …" (the CLI exits 2).
     */
    public Backend backend(DType dtype) {
        if (!isCuda()) {
            return dtype == DType.F32 && !quantization.enabled() ? new CpuBackend()
                    : new CpuBackend(dev.cortado.backend.cpu.WorkerPool.shared(), dtype, quantization);
        }
        if (quantization.enabled()) {
            throw new CortadoException("--quantize " + quantization + " quantizes weights on the CPU backend only so far; use --device cpu "
                    + "(CUDA runs quantized weights given quantized, e.g. GGUF or MatMulNBits files)");
        }
        requireDriver();
        return new CudaBackend(index, dtype);
    }

    /** Fails with the driver's reason when this is a CUDA device and no CUDA driver loads here. */
    public void requireDriver() {
        if (isCuda() && !CudaDriver.isAvailable()) throw new CortadoException(CudaDriver.unavailableReason());
    }

    @Override
    public String toString() {
        return isCuda() ? "cuda:" + index : "cpu";
    }
}
