package dev.cortado;

import dev.cortado.backend.cuda.CudaDriver;

/** Where a model runs: {@code cpu} or {@code cuda[:N]}. */
public record Device(String kind, int index) {
    public static Device cpu() {
        return new Device("cpu", 0);
    }

    public static Device cuda(int index) {
        return new Device("cuda", index);
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

    /**
     * Model execution is CPU-only in this build: the CUDA driver bindings and kernels exist (backend/cuda,
     * kernels/) but are not yet wired behind {@link dev.cortado.backend.Backend} and have not run on a GPU.
     * Without a driver the error names that first.
     */
    public void requireCpuExecution() {
        if (!isCuda()) return;
        if (!CudaDriver.isAvailable()) throw new CortadoException(CudaDriver.unavailableReason());
        throw new CortadoException("--device " + kind + ":" + index + ": running models on CUDA is not wired into this build yet "
                + "(the driver was found; see `cortado info --device cuda`); use --device cpu");
    }

    @Override
    public String toString() {
        return isCuda() ? "cuda:" + index : "cpu";
    }
}
