namespace Lethe.Testing;

/// The real components the tests run against, as `scripts/test` starts them. A test that needs a
/// missing component fails with a message that says how to get it: there is no skipping, so CI can
/// never go green on a suite that did not run.
internal static class TestEnvironment
{
    public const string PostgresVariable = "LETHE_TEST_POSTGRES";
    public const string AzuriteVariable = "LETHE_TEST_AZURITE";
    public const string SmtpVariable = "LETHE_TEST_SMTP";
    public const string SmtpApiVariable = "LETHE_TEST_SMTP_API";
    public const string ChromiumVariable = "LETHE_TEST_CHROMIUM";

    /// Connection string to a PostgreSQL server where the tests may create databases.
    public static string Postgres => Require(PostgresVariable, "PostgreSQL");

    /// Connection string to an Azurite blob endpoint.
    public static string Azurite => Require(AzuriteVariable, "Azurite");

    /// host:port of an SMTP server whose messages can be read back.
    public static string Smtp => Require(SmtpVariable, "the SMTP server");

    /// Base address of the SMTP server's REST API (maildev: GET {SmtpApi}/api/email lists the messages).
    public static Uri SmtpApi => new(Require(SmtpApiVariable, "the SMTP server"));

    /// Path to Debian's chromium.
    public static string Chromium => Environment.GetEnvironmentVariable(ChromiumVariable) is { Length: > 0 } path ? path
        : File.Exists("/usr/bin/chromium") ? "/usr/bin/chromium"
        : throw new InvalidOperationException($"Chromium is not installed: run scripts/test (it installs Debian's chromium) or set {ChromiumVariable}.");

    private static string Require(string variable, string component)
        => Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{component} is needed by this test and {variable} is not set: run the suite with scripts/test, which starts {component} on loopback.");
}
