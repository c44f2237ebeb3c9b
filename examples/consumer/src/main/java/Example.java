import dev.cortado.generate.GenerationConfig;
import dev.cortado.runtime.Cortado;
import java.nio.file.Path;
import java.util.List;

public class Example {
    public static void main(String[] args) {
        // Cortado's own EN→DE model, found beside the library (-Dcortado.home=DIR overrides)
        try (Cortado rt = Cortado.open(Cortado.defaultModel("translate"))) {
            String de = rt.translate(List.of("The package provides a library."), rt.generationConfig()).getFirst().text();
            System.out.println(de);
        }
        // any decoder-only model folder (config.json, tokenizer.json, model.safetensors or an Optimum ONNX export)
        if (args.length > 0) {
            try (Cortado rt = Cortado.open(Path.of(args[0]))) {
                var config = GenerationConfig.sampling(0.7f).maxNewTokens(40).seed(1).stopStrings("\n\n");
                rt.generator(config).generate("Once upon a time", token -> System.out.print(token.text()));
                System.out.println();
            }
        }
    }
}
