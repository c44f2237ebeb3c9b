package dev.cortado.backend.cuda;

import java.util.Locale;

/** What {@code cortado info --device cuda} prints: driver, devices, kernels, GEMM provider. Never throws. */
public final class CudaInfo {
    private CudaInfo() {}

    /** Prints {@link #describe()} (a quick check on a GPU machine: {@code run.sh dev.cortado.backend.cuda.CudaInfo}). */
    public static void main(String[] args) {
        System.out.print(describe());
    }

    /** A multi-line description; without a driver it says why and how to go on. */
    public static String describe() {
        StringBuilder sb = new StringBuilder();
        CudaDriver d;
        try {
            d = CudaDriver.get();
        } catch (CudaException e) {
            sb.append("CUDA: not available: ").append(e.getMessage()).append('\n');
            appendStatic(sb);
            return sb.toString();
        }
        try {
            sb.append("CUDA driver: ").append(CudaDriver.formatVersion(d.driverVersion())).append(" (")
                    .append(d.libraryName()).append(")\n");
            int n = d.deviceCount();
            sb.append("Devices: ").append(n).append('\n');
            for (int i = 0; i < n; i++) {
                int dev = d.device(i);
                int major = d.deviceAttribute(CudaDriver.ATTR_COMPUTE_CAPABILITY_MAJOR, dev);
                int minor = d.deviceAttribute(CudaDriver.ATTR_COMPUTE_CAPABILITY_MINOR, dev);
                int sms = d.deviceAttribute(CudaDriver.ATTR_MULTIPROCESSOR_COUNT, dev);
                long mem = d.deviceTotalMem(dev);
                int busBits = d.deviceAttribute(CudaDriver.ATTR_GLOBAL_MEMORY_BUS_WIDTH, dev);
                int memKhz = d.deviceAttribute(CudaDriver.ATTR_MEMORY_CLOCK_RATE, dev);
                sb.append("Device ").append(i).append(": ").append(d.deviceName(dev))
                        .append(", compute capability ").append(major).append('.').append(minor)
                        .append(", ").append(sms).append(" SMs, ").append(CudaDriver.formatBytes(mem)).append(" memory");
                if (busBits > 0 && memKhz > 0) {
                    // DDR: two transfers per clock
                    double gbs = 2.0 * memKhz * 1e3 * (busBits / 8.0) / 1e9;
                    sb.append(String.format(Locale.ROOT, ", ~%.0f GB/s peak bandwidth", gbs));
                }
                if (major < 8) sb.append(" (too old for Cortado's kernels: needs 8.0+)");
                sb.append('\n');
            }
            if (n > 0) {
                try (CudaContext ctx = CudaContext.open(0)) {
                    long[] info = ctx.memoryInfo();
                    sb.append("Device 0 free memory: ").append(CudaDriver.formatBytes(info[0])).append(" of ")
                            .append(CudaDriver.formatBytes(info[1])).append('\n');
                    sb.append("Kernels: ").append(kernelsLine()).append('\n');
                    sb.append("GEMM: ").append(ctx.gemmProvider()).append('\n');
                    return sb.toString();
                } catch (CudaException e) {
                    sb.append("Device 0: cannot open a context: ").append(e.getMessage()).append('\n');
                }
            }
        } catch (CudaException e) {
            sb.append("CUDA: error: ").append(e.getMessage()).append('\n');
        }
        appendStatic(sb);
        return sb.toString();
    }

    private static void appendStatic(StringBuilder sb) {
        sb.append("Kernels: ").append(kernelsLine()).append('\n');
        sb.append("GEMM: ").append(CuBlasLt.describe()).append('\n');
    }

    private static String kernelsLine() {
        byte[] image = CudaModule.readKernelsResource();
        if (image == null) return "absent (built without nvcc; --device cuda cannot run)";
        return "cortado.fatbin, " + CudaDriver.formatBytes(image.length) + " (SASS sm_80, sm_90a; PTX compute_80)";
    }
}
