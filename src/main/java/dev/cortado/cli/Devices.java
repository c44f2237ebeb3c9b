package dev.cortado.cli;

import dev.cortado.CortadoException;
import dev.cortado.device.Device;
import dev.cortado.tensor.DType;

/** Parses --device / --dtype into a backend; CUDA without a driver fails with one clear line (exit 2). */
final class Devices {
    private Devices() {}

    static Device parse(String device) {
        Device d = Device.parse(device);
        d.requireDriver();
        return d;
    }

    /** --dtype: f32 (default), f16 or bf16 (CUDA storage type; the CPU backend runs f32 activations). */
    static DType dtype(String s) {
        if (s == null) return DType.F32;
        return switch (s.toLowerCase()) {
            case "f32", "fp32", "float32" -> DType.F32;
            case "f16", "fp16", "float16" -> DType.F16;
            case "bf16", "bfloat16" -> DType.BF16;
            default -> throw new CortadoException("unknown --dtype '" + s + "' (use f32, f16 or bf16)");
        };
    }

    /** Commands that run on the CPU only so far (embed): CUDA names the driver problem first, then says so. */
    static void requireCpu(String device) {
        if (parse(device).isCuda()) {
            throw new CortadoException("--device " + device + ": this command runs on the CPU only so far; use --device cpu");
        }
    }
}
