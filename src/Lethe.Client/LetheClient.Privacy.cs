namespace Lethe.Client;

public sealed partial class LetheClient
{
    /// Files an export or erasure; the server answers 202 with the request.
    public Task<PrivacyRequestResource> CreatePrivacyRequestAsync(CreatePrivacyRequest request, CancellationToken ct = default)
        => SendAsync<PrivacyRequestResource>(HttpMethod.Post, "privacy/requests", request, ct);

    public Task<PrivacyRequestResource> GetPrivacyRequestAsync(Guid id, CancellationToken ct = default)
        => SendAsync<PrivacyRequestResource>(HttpMethod.Get, $"privacy/requests/{id:D}", null, ct);

    /// The caller's own requests; a privacy officer sees every request (open ones first, most overdue first) unless
    /// <paramref name="mine"/>; optionally only those of one <paramref name="status"/>.
    public IAsyncEnumerable<PrivacyRequestResource> ListPrivacyRequestsAsync(string? status = null, bool mine = false, CancellationToken ct = default)
    {
        var query = new List<string>();
        if (status is not null)
        {
            query.Add("status=" + Uri.EscapeDataString(status));
        }
        if (mine)
        {
            query.Add("mine=true");
        }
        return ListAsync<PrivacyRequestResource>("privacy/requests" + (query.Count > 0 ? "?" + string.Join('&', query) : ""), ct);
    }

    public Task<PrivacyRequestResource> ApprovePrivacyRequestAsync(Guid id, string? reason = null, CancellationToken ct = default)
        => SendAsync<PrivacyRequestResource>(HttpMethod.Post, $"privacy/requests/{id:D}/approve", new PrivacyDecision(reason), ct);

    public Task<PrivacyRequestResource> DenyPrivacyRequestAsync(Guid id, string reason, CancellationToken ct = default)
        => SendAsync<PrivacyRequestResource>(HttpMethod.Post, $"privacy/requests/{id:D}/deny", new PrivacyDecision(reason), ct);

    public Task<PrivacyRequestResource> CancelPrivacyRequestAsync(Guid id, CancellationToken ct = default)
        => SendAsync<PrivacyRequestResource>(HttpMethod.Post, $"privacy/requests/{id:D}/cancel", null, ct);

    public Task<PrivacyRequestResource> RetryPrivacyRequestAsync(Guid id, CancellationToken ct = default)
        => SendAsync<PrivacyRequestResource>(HttpMethod.Post, $"privacy/requests/{id:D}/retry", null, ct);

    /// Polls until the request ends (Completed, Failed, Denied, Cancelled) or waits for approval, reporting the share of
    /// its steps done (0 to 100). An erasure waiting for an officer's approval is returned as it is when
    /// <paramref name="untilApprovalNeeded"/> is true.
    public async Task<PrivacyRequestResource> WaitForPrivacyRequestAsync(Guid id, IProgress<int>? progress = null, TimeSpan? pollInterval = null, bool untilApprovalNeeded = true, CancellationToken ct = default)
    {
        while (true)
        {
            var request = await GetPrivacyRequestAsync(id, ct);
            var done = request.Steps.Count == 0 ? 0 : request.Steps.Count(s => s.Status == "Completed") * 100 / request.Steps.Count;
            progress?.Report(request.Status == PrivacyRequestStatuses.Completed ? 100 : done);
            if (PrivacyRequestStatuses.IsEnded(request.Status) || (untilApprovalNeeded && request.Approval.State == "Pending"))
            {
                return request;
            }
            await Task.Delay(pollInterval ?? TimeSpan.FromMilliseconds(500), ct);
        }
    }

    /// The export bundle (application/zip), streamed: the caller disposes the response.
    public Task<HttpResponseMessage> DownloadPrivacyBundleAsync(Guid id, CancellationToken ct = default)
        => SendRawAsync(HttpMethod.Get, $"privacy/requests/{id:D}/bundle", null, ct, HttpCompletionOption.ResponseHeadersRead);

    /// Downloads the bundle to <paramref name="destination"/>.
    public async Task DownloadPrivacyBundleAsync(Guid id, Stream destination, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var response = await DownloadPrivacyBundleAsync(id, ct);
        await using var content = await response.Content.ReadAsStreamAsync(ct);
        await content.CopyToAsync(destination, ct);
    }
}
