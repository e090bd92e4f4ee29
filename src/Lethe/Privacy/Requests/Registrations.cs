namespace Lethe.Privacy.Requests;

/// A file a module adds to every export bundle, computed for the person from live data (the Labs
/// <c>virtualmachines.csv</c> and <c>disks.csv</c>, their own rows in the seed's columns). Written to
/// <c>data/{Module}/{FileName}</c>; returns the number of records written.
public sealed record PersonalBundleFile(
    string Module,
    string FileName,
    string Description,
    Func<IServiceProvider, SubjectKeys, Stream, CancellationToken, Task<long>> WriteAsync);

/// How a module ends what lets a person act (tokens it issued) when their erasure starts, so nothing they do can add
/// data behind it. The account's own sessions (bearer and refresh tokens, the portal cookie) are ended by the engine.
public sealed record SessionRevoker(string Module, Func<IServiceProvider, SubjectKeys, CancellationToken, Task> RevokeAsync);
