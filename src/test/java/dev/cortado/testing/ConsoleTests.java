package dev.cortado.testing;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TagFilter;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs JUnit tests without Maven (the device bundle of native/device-run.sh has no Maven and no network).
 * Arguments: {@code [--tag T]... [--exclude-tag T]... [--package P]... [--class C]... [--method C#m]...
 * [--reports DIR]}; default: every test under dev.cortado; {@code --reports} writes JUnit XML (the legacy
 * surefire-style format) into DIR. Prints one line per test (skips with their reason) and a summary; exits 1
 * when a test failed, 2 when none ran.
 */
public final class ConsoleTests {
    private ConsoleTests() {}

    public static void main(String[] args) {
        List<DiscoverySelector> selectors = new ArrayList<>();
        List<String> tags = new ArrayList<>(), excluded = new ArrayList<>();
        java.nio.file.Path reports = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--tag" -> tags.add(need(a, v));
                case "--exclude-tag" -> excluded.add(need(a, v));
                case "--package" -> selectors.add(selectPackage(need(a, v)));
                case "--class" -> selectors.add(selectClass(need(a, v)));
                case "--method" -> selectors.add(selectMethod(need(a, v)));
                case "--reports" -> reports = java.nio.file.Path.of(need(a, v));
                default -> {
                    System.err.println("unknown argument " + a
                            + " (use --tag, --exclude-tag, --package, --class, --method, --reports)");
                    System.exit(2);
                }
            }
            i++;
        }
        if (selectors.isEmpty()) selectors.add(selectPackage("dev.cortado"));
        LauncherDiscoveryRequestBuilder b = LauncherDiscoveryRequestBuilder.request().selectors(selectors);
        if (!tags.isEmpty()) b.filters(TagFilter.includeTags(tags));
        if (!excluded.isEmpty()) b.filters(TagFilter.excludeTags(excluded));
        LauncherDiscoveryRequest request = b.build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        List<TestExecutionListener> listeners = new ArrayList<>(List.of(summary, new Printer()));
        if (reports != null) {
            listeners.add(new org.junit.platform.reporting.legacy.xml.LegacyXmlReportGeneratingListener(reports,
                    new PrintWriter(System.err, true)));
        }
        launcher.execute(request, listeners.toArray(TestExecutionListener[]::new));
        TestExecutionSummary s = summary.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        s.printFailuresTo(out, 30);
        s.printTo(out);
        out.flush();
        long ran = s.getTestsSucceededCount() + s.getTestsFailedCount();
        System.exit(s.getTotalFailureCount() > 0 ? 1 : ran == 0 ? 2 : 0);
    }

    private static String need(String flag, String v) {
        if (v == null) {
            System.err.println(flag + " needs a value");
            System.exit(2);
        }
        return v;
    }

    private static final class Printer implements TestExecutionListener {
        @Override
        public void executionSkipped(TestIdentifier id, String reason) {
            System.out.println("SKIP  " + id.getDisplayName() + ": " + reason);
        }

        @Override
        public void executionFinished(TestIdentifier id, TestExecutionResult r) {
            if (!id.isTest()) {
                if (r.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
                    System.out.println(r.getStatus() + "  " + id.getDisplayName() + ": "
                            + r.getThrowable().map(Throwable::getMessage).orElse(""));
                }
                return;
            }
            String name = id.getLegacyReportingName();
            switch (r.getStatus()) {
                case SUCCESSFUL -> System.out.println("PASS  " + name);
                case ABORTED -> System.out.println("SKIP  " + name + ": "
                        + r.getThrowable().map(Throwable::getMessage).orElse(""));
                case FAILED -> System.out.println("FAIL  " + name + ": "
                        + r.getThrowable().map(Throwable::toString).orElse(""));
            }
        }
    }
}
