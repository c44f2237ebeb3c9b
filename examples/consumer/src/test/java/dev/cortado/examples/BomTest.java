package dev.cortado.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * bom/pom.xml (no parent, on purpose) stays in step with the build: the same version as the reactor, the Jackson BOM
 * version the library is built with, and an entry for every Cortado artifact module of the reactor.
 */
class BomTest {
    private static final Path ROOT = Path.of("../..");

    private static Document xml(Path p) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(p.toFile());
    }

    private static String child(Element e, String name) {
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c && c.getTagName().equals(name)) return c.getTextContent().strip();
        }
        return null;
    }

    private static String jacksonBomVersion(Document d) {
        NodeList deps = d.getElementsByTagName("dependency");
        for (int i = 0; i < deps.getLength(); i++) {
            Element e = (Element) deps.item(i);
            if ("jackson-bom".equals(child(e, "artifactId"))) return child(e, "version");
        }
        return null;
    }

    @Test
    void bomMatchesTheReactor() throws Exception {
        Document root = xml(ROOT.resolve("pom.xml")), bom = xml(ROOT.resolve("bom/pom.xml"));
        assertEquals(child(root.getDocumentElement(), "version"), child(bom.getDocumentElement(), "version"));
        String jackson = child((Element) bom.getElementsByTagName("properties").item(0), "jackson.version");
        assertEquals(jacksonBomVersion(root), jackson, "bom jackson.version vs root pom.xml's jackson-bom");

        List<String> managed = new ArrayList<>();
        NodeList deps = bom.getElementsByTagName("dependency");
        for (int i = 0; i < deps.getLength(); i++) {
            Element e = (Element) deps.item(i);
            if ("dev.cortado".equals(child(e, "groupId"))) managed.add(child(e, "artifactId"));
        }
        // every deployable module of the reactor (not the parent, the BOM itself or the examples) is in the BOM
        Matcher m = Pattern.compile("<module>([^<]+)</module>").matcher(Files.readString(ROOT.resolve("pom.xml")));
        while (m.find()) {
            String module = m.group(1);
            if (module.equals("bom") || module.startsWith("examples/")) continue;
            Path pom = module.endsWith(".xml") ? ROOT.resolve(module) : ROOT.resolve(module).resolve("pom.xml");
            String artifact = child(xml(pom).getDocumentElement(), "artifactId");
            assertTrue(managed.contains(artifact), artifact + " (module " + module + ") is missing from bom/pom.xml: " + managed);
        }
    }
}
