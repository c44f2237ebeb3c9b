package dev.cortado.cli;

import dev.cortado.CortadoException;

/** Parses --device. CUDA is reported clearly where this command does not run on it yet. */
final class Devices {
    private Devices() {}

    static void requireCpu(String device) {
        if (device == null || device.equals("cpu")) return;
        if (device.equals("cuda") || device.matches("cuda:\\d+")) {
            throw new CortadoException("--device " + device + " is not available for this command yet (CPU only); use --device cpu");
        }
        throw new CortadoException("unknown device '" + device + "' (use cpu or cuda[:N])");
    }
}
