package dev.cortado.cli;

import dev.cortado.Device;

/** Parses --device; CUDA fails with one clear line (no driver, or not wired into this command yet). */
final class Devices {
    private Devices() {}

    static void requireCpu(String device) {
        Device.parse(device).requireCpuExecution();
    }
}
