package dev.cortado.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.CortadoException;
import dev.cortado.runtime.Cortado;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The default-model rule: cortado.home, else beside the library's jar/classes, else the cortado-models resources. */
class DefaultModelsTest {
    @Test
    void foundBesideTheLibraryNotInTheWorkingDirectory() {
        // tests load the library from target/classes: its parent's parent holds models/
        Path p = Cortado.defaultModel("translate");
        assertEquals(Path.of("models", "cortado-en-de").toAbsolutePath().normalize(), p.normalize());
        assertEquals(Path.of("models", "cortado-summarize-en").toAbsolutePath().normalize(),
                Cortado.defaultModel("summarize").normalize());
    }

    @Test
    void cortadoHomeWins(@TempDir Path home) throws Exception {
        Files.createDirectories(home.resolve("models/cortado-en-de"));
        String before = System.getProperty("cortado.home");
        System.setProperty("cortado.home", home.toString());
        try {
            assertEquals(home.resolve("models/cortado-en-de").toAbsolutePath(), Cortado.defaultModel("translate"));
        } finally {
            if (before == null) System.clearProperty("cortado.home");
            else System.setProperty("cortado.home", before);
        }
    }

    @Test
    void classPathResourcesAreExtractedOnce(@TempDir Path cache) throws Exception {
        Path dir = DefaultModels.shipped("tiny-resource-model", "test", cache);
        assertEquals(cache.resolve("tiny-resource-model"), dir);
        assertTrue(Files.readString(dir.resolve("config.json")).contains("\"marian\""));
        assertTrue(Files.isRegularFile(dir.resolve("generation_config.json")));
        assertFalse(Files.exists(dir.resolve("tokenizer.json")));
        long stamp = Files.getLastModifiedTime(dir.resolve("config.json")).toMillis();
        Files.setLastModifiedTime(dir.resolve("config.json"), java.nio.file.attribute.FileTime.fromMillis(stamp - 60_000));
        DefaultModels.shipped("tiny-resource-model", "test", cache);
        assertEquals(stamp - 60_000, Files.getLastModifiedTime(dir.resolve("config.json")).toMillis(), "same size: not copied again");
    }

    @Test
    void missingModelIsOneLineNamingTheFix(@TempDir Path cache) {
        CortadoException e = assertThrows(CortadoException.class, () -> DefaultModels.shipped("no-such-model", "translation", cache));
        String m = e.getMessage();
        assertFalse(m.contains("\n"), m);
        assertTrue(m.startsWith("the default translation model no-such-model was not found (looked in "), m);
        assertTrue(m.contains("-Dcortado.home=DIR") && m.contains("dev.cortado:cortado-models") && m.contains("Cortado.open(Path)"), m);
        CortadoException t = assertThrows(CortadoException.class, () -> Cortado.defaultModel("dance"));
        assertEquals("no default model for task 'dance' (translate, summarize or embed)", t.getMessage());
    }
}
