namespace Lethe.Privacy.Requests;

public enum ErasureApproval
{
    /// A privacy officer approves every erasure (not its dry run) before it runs.
    Officer,

    /// An erasure runs as soon as it is verified.
    None,
}

/// <c>Lethe:Privacy</c>: how subject requests are handled.
public sealed class PrivacyOptions
{
    public const string Section = "Lethe:Privacy";

    /// Who approves an erasure before it runs.
    public ErasureApproval ErasureApproval { get; set; } = ErasureApproval.Officer;

    /// True: the officer who approves an erasure is not the one who filed it.
    public bool FourEyes { get; set; }

    /// Days an export bundle is kept before the sweep deletes it.
    public int BundleRetentionDays { get; set; } = 7;

    /// Days from receipt within which a request is due.
    public int DueDays { get; set; } = 30;
}

/// Where the privacy engine keeps its files in the blob store.
public static class PrivacyBlobs
{
    public const string Container = "privacy";

    /// The finished bundles: <c>bundles/{requestId}.zip</c>.
    public const string BundlesPrefix = "bundles/";

    /// A running export's data files, before they are put in the bundle: <c>staging/{requestId}/...</c>.
    public const string StagingPrefix = "staging/";

    public static string Bundle(Guid requestId) => $"{BundlesPrefix}{requestId:D}.zip";

    public static string Staging(Guid requestId) => $"{StagingPrefix}{requestId:D}/";
}
