package dev.cortado.runtime;

import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Run by {@link NoJvmFlagsTest} in a JVM started WITHOUT {@code --add-modules jdk.incubator.vector} and without
 * {@code --enable-native-access}: translates the given sources with the shipped EN→DE model (its own
 * generation_config: beam 4) and, when a decoder folder is given, runs greedy generation; prints one line of token ids
 * per result ("T ids..." / "G ids...") for the test to compare with the goldens.
 * Arguments: translateModelDir decoderDirOrDash prompt maxNewTokens source...
 */
public final class NoFlagsProbe {
    private NoFlagsProbe() {}

    public static void main(String[] args) {
        List<String> sources = Arrays.asList(args).subList(4, args.length);
        try (Cortado rt = Cortado.open(Path.of(args[0]))) {
            for (GenerationResult r : rt.translate(sources, rt.generationConfig())) System.out.println("T " + ids(r.ids()));
        }
        if (!args[1].equals("-")) {
            try (Cortado rt = Cortado.open(Path.of(args[1]))) {
                GenerationResult r = rt.generator(GenerationConfig.greedy().maxNewTokens(Integer.parseInt(args[3])))
                        .generate(args[2], t -> {});
                System.out.println("G " + ids(r.ids()));
            }
        }
    }

    private static String ids(int[] ids) {
        StringBuilder b = new StringBuilder();
        for (int id : ids) b.append(b.isEmpty() ? "" : " ").append(id);
        return b.toString();
    }
}
