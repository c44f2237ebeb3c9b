package dev.cortado.cli;

import dev.cortado.CortadoException;
import dev.cortado.generate.FinishReason;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.constraint.Constraint;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** Structured-output options of {@code generate}: {@code --json-schema FILE | --regex RE | --choice A,B,C}. */
final class ConstraintOptions {
    @Option(names = "--json-schema", paramLabel = "FILE",
            description = "output one JSON value valid against this JSON Schema (compact, properties in schema order)")
    Path jsonSchema;
    @Option(names = "--json-object", description = "output one JSON object (any keys)") boolean jsonObject;
    @Option(names = "--regex", paramLabel = "RE", description = "output text that matches this regular expression in full")
    String regex;
    @Option(names = "--choice", paramLabel = "A,B,C", split = ",", description = "output exactly one of these strings")
    List<String> choice;

    /** The config with the requested constraint (if any). */
    GenerationConfig apply(GenerationConfig c) {
        int n = (jsonSchema != null ? 1 : 0) + (jsonObject ? 1 : 0) + (regex != null ? 1 : 0) + (choice != null ? 1 : 0);
        if (n > 1) throw new CortadoException("--json-schema, --json-object, --regex and --choice exclude each other; give one");
        Constraint k = jsonSchema != null ? Constraint.jsonSchema(jsonSchema)
                : jsonObject ? Constraint.jsonObject()
                : regex != null ? Constraint.regex(regex)
                : choice != null ? Constraint.choice(choice) : null;
        return k == null ? c : c.constraint(k);
    }

    /** Says on stderr when a constrained output was cut by the token limit (it is then incomplete). */
    static void warnIfIncomplete(GenerationConfig c, List<GenerationResult> results, PrintWriter err) {
        if (c.constraint() == null) return;
        for (GenerationResult r : results) {
            if (r.finishReason() != FinishReason.LENGTH) continue;
            err.println("cortado: warning: output is incomplete: --max-tokens " + c.maxNewTokens() + " ran out before the "
                    + c.constraint().describe() + " was satisfied; raise --max-tokens");
            err.flush();
            return;
        }
    }
}
