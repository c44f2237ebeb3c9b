package dev.cortado.cli;

import dev.cortado.CortadoException;

/** `info --device cuda`: delegates to the CUDA backend when it is present on the class path. */
final class DeviceInfo {
    private DeviceInfo() {}

    static String describe(String device) {
        if (!(device.equals("cuda") || device.matches("cuda:\\d+"))) {
            throw new CortadoException("unknown device '" + device + "' (use cpu or cuda[:N])");
        }
        try {
            Class<?> c = Class.forName("dev.cortado.backend.cuda.CudaInfo");
            return (String) c.getMethod("describe").invoke(null);
        } catch (ClassNotFoundException e) {
            throw new CortadoException("this build has no CUDA backend");
        } catch (java.lang.reflect.InvocationTargetException e) {
            Throwable c = e.getCause();
            throw c instanceof RuntimeException re ? re : new CortadoException(String.valueOf(c));
        } catch (ReflectiveOperationException e) {
            throw new CortadoException("CUDA backend unavailable: " + e);
        }
    }
}
