using System.Data.Common;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lethe.Client;
using Lethe.Server.Tests.Hosting;
using Lethe.Server.Tests.Labs;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Tests.Api;

/// The servers of the fuzz test: no job workers, so that nothing but the fuzzer's own requests could
/// change a row (a queued job would show as a new row, not run and change others).
public sealed class FuzzServers : Servers
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Lethe:Jobs:Workers"] = "0" };
}

/// Walks every operation of the server's own OpenAPI document, anonymously and as the Owner of a
/// subscription full of real resources, with hostile path values, query options and bodies. Every
/// request is invalid by construction (or a read), so: no 5xx; every error is problem JSON that names no
/// .NET type, carries no stack trace and does not echo a huge value; no mutating request succeeds; and
/// not one database row or blob differs afterwards. An endpoint added later is walked the same way.
public sealed partial class OpenApiFuzzTests(FuzzServers servers) : IClassFixture<FuzzServers>
{
    private const int Seed = 12;
    private const int Huge = 300_000;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Hostile_requests_to_every_operation_get_a_clear_4xx_and_change_nothing(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var world = await World.CreateAsync(host, Ct);
        using var anonymous = host.Raw();
        using var owner = host.Raw(world.Token);
        var document = JsonNode.Parse(await anonymous.GetStringAsync(new Uri("openapi/v1.json", UriKind.Relative), Ct))!;
        var operations = Operations(document).ToList();
        Assert.True(operations.Count > 90, $"The document lists {operations.Count} operations.");

        var before = await SnapshotAsync(host);
        var findings = new List<string>();
        var sent = 0;
        foreach (var operation in operations)
        {
            var random = new Random(HashCode.Combine(Seed, StableHash(operation.Method + operation.Route)));
            foreach (var request in Cases(operation, world, random, signedIn: false))
            {
                sent++;
                await SendAsync(anonymous, operation, request, findings);
            }
            foreach (var request in Cases(operation, world, random, signedIn: true))
            {
                sent++;
                await SendAsync(owner, operation, request, findings);
            }
        }
        var after = await SnapshotAsync(host);

        findings.AddRange(Differences(before, after));
        TestContext.Current.SendDiagnosticMessage($"{provider}: {sent} hostile requests to {operations.Count} operations, {findings.Count} findings.");
        Assert.True(findings.Count == 0, $"{findings.Count} findings:\n" + string.Join('\n', findings.Take(60)));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_document_describes_the_bodies_that_handlers_read_themselves(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        using var anonymous = host.Raw();
        var document = JsonNode.Parse(await anonymous.GetStringAsync(new Uri("openapi/v1.json", UriKind.Relative), Ct))!;
        var operations = Operations(document).ToDictionary(o => o.Method + " " + o.Route);

        var register = operations["POST " + WorkspaceRoute + "/models/{name}/versions"];
        var form = register.Body?["content"]?["multipart/form-data"]?["schema"];
        Assert.NotNull(form);
        Assert.Equal("binary", form["properties"]?["files"]?["items"]?["format"]?.GetValue<string>());
        Assert.Contains("files", form["required"]!.AsArray().Select(n => n!.GetValue<string>()));
        foreach (var upload in new[] { "PUT " + WorkspaceRoute + "/jobs/{jobId}/artifacts/{path}", "PUT " + WorkspaceRoute + "/storage/{path}" })
        {
            Assert.Equal("binary", operations[upload].Body?["content"]?["application/octet-stream"]?["schema"]?["format"]?.GetValue<string>());
        }
    }

    private const string WorkspaceRoute = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.MachineLearningServices/workspaces/{workspaceName}";

    // ---- The operations -------------------------------------------------------------------------------

    internal sealed record Operation(string Method, string Route, IReadOnlyList<Parameter> Parameters, JsonNode? Body, JsonNode Document)
    {
        public bool Reads => Method is "GET" or "HEAD";

        public string? ContentType => Body?["content"]?.AsObject().Select(p => p.Key).FirstOrDefault();

        public bool BodyRequired => Body?["required"]?.GetValue<bool>() == true;

        public IEnumerable<string> PathParameters => Parameters.Where(p => p.In == "path").Select(p => p.Name);

        public override string ToString() => $"{Method} {Route}";
    }

    internal sealed record Parameter(string Name, string In, string? Type);

    private static IEnumerable<Operation> Operations(JsonNode document)
    {
        foreach (var (route, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, op) in item!.AsObject())
            {
                if (method is "parameters" or "summary" or "description" or "servers")
                {
                    continue;
                }
                var parameters = (op!["parameters"]?.AsArray() ?? [])
                    .Select(p => new Parameter(p!["name"]!.GetValue<string>(), p["in"]!.GetValue<string>(), TypeOf(document, p["schema"])))
                    .ToList();
                yield return new Operation(method.ToUpperInvariant(), route, parameters, op["requestBody"], document);
            }
        }
    }

    /// The JSON type a schema asks for ("string", "integer", "boolean", "array", "object"), null when any.
    private static string? TypeOf(JsonNode document, JsonNode? schema)
    {
        schema = Resolve(document, schema);
        if (schema is null)
        {
            return null;
        }
        var type = schema["type"];
        if (type is JsonArray types)
        {
            return types.Select(t => t!.GetValue<string>()).FirstOrDefault(t => t != "null");
        }
        if (type is not null)
        {
            return type.GetValue<string>();
        }
        if (schema["properties"] is not null)
        {
            return "object";
        }
        var alternatives = schema["oneOf"] ?? schema["anyOf"];
        return alternatives?.AsArray().Select(a => TypeOf(document, a)).FirstOrDefault(t => t is not null and not "null");
    }

    private static JsonNode? Resolve(JsonNode document, JsonNode? schema)
    {
        for (var i = 0; i < 8 && schema?["$ref"] is { } reference; i++)
        {
            var name = reference.GetValue<string>().Split('/')[^1];
            schema = document["components"]?["schemas"]?[name];
        }
        return schema;
    }

    // ---- The world: real resources, so that valid path values reach deep into the handlers -----------

    internal sealed record World(Guid SubscriptionId, string Token, IReadOnlyDictionary<string, string> Values)
    {
        public const string Group = "fuzz-rg";
        public const string Workspace = "fuzz-ws";
        public const string Lab = "FuzzLab";

        public static async Task<World> CreateAsync(LetheHost host, CancellationToken ct)
        {
            var (id, op) = await host.NewSubscriptionAsync(ct);
            var owner = await host.NewUserWithRoleAsync(op, Scenario.Scope(id), "Owner", ct);
            var member = await host.NewUserAsync(ct);
            var c = owner.Client;
            await c.CreateOrUpdateResourceGroupAsync(id, Group, "westeurope", ct);
            await c.CreateOrUpdateWorkspaceAsync(id, Group, Workspace, new CreateWorkspaceRequest("westeurope"), ct);
            await c.AddWorkspaceMemberAsync(id, Group, Workspace, new AddWorkspaceMemberRequest("Reader", PrincipalId: member.ObjectId), ct);
            await c.PutAssetAsync(id, Group, Workspace, "notebooks", "fuzz-asset", new PutAssetRequest("A notebook."), ct);
            await c.RegisterModelAsync(id, Group, Workspace, "fuzz-model", new Dictionary<string, Stream> { ["model.pkl"] = new MemoryStream([1, 2, 3]) }, null, ct);
            await c.SubmitJobAsync(id, Group, Workspace, "fuzz-job", new SubmitJobRequest("fuzz-experiment"), ct);
            await c.UploadArtifactAsync(id, Group, Workspace, "fuzz-job", "outputs/result.txt", new MemoryStream("42"u8.ToArray()), ct);
            await c.UploadToStorageAsync(id, Group, Workspace, "data/table.csv", new MemoryStream("a,b\n1,2\n"u8.ToArray()), ct);
            await c.CreateOrUpdateLabAsync(id, Group, Lab, new CreateLabRequest("westeurope"), ct);
            await c.CreateLabVirtualMachineAsync(id, Group, Lab, "fuzz-vm", new LabVirtualMachineCreateProperties("Standard_B2s", LabSetup.Ubuntu), ct);
            await c.CreateLabDiskAsync(id, Group, Lab, "fuzz-disk", new LabDiskCreateProperties(32), ct);
            var export = await c.ExportLabResourceUsageAsync(id, Group, Lab, new ExportLabResourceUsageRequest(), ct);
            var entity = await c.PublishEntityAsync(new PublishEntityRequest("Experiment", "Fuzz entity"), ct);
            var profile = await c.GetMyCatalogProfileAsync(ct);
            var request = await c.CreatePrivacyRequestAsync(new CreatePrivacyRequest(PrivacyRequestTypes.Export), ct);
            var assignment = (await c.ListRoleAssignmentsAsync(Scenario.Scope(id), ct)).First(a => a.Properties.PrincipalId == owner.ObjectId);
            // Reads that lazily create what a first visit creates (a gallery profile, a 2FA key) happen here, not in the fuzz.
            await c.GetMeAsync(ct);
            using (var raw = host.Raw(c.AccessToken))
            {
                using var info = await raw.GetAsync(new Uri("identity/manage/info", UriKind.Relative), ct);
                using var twoFactor = await raw.PostAsync(new Uri("identity/manage/2fa", UriKind.Relative), new StringContent("{}", Encoding.UTF8, "application/json"), ct);
                twoFactor.EnsureSuccessStatusCode();
            }
            return new World(id, c.AccessToken!, new Dictionary<string, string>
            {
                ["subscriptionId"] = id.ToString("D"),
                ["resourceGroupName"] = Group,
                ["workspaceName"] = Workspace,
                ["kind"] = "notebooks",
                ["name"] = "fuzz-asset",
                ["modelName"] = "fuzz-model",
                ["version"] = "1",
                ["jobId"] = "fuzz-job",
                ["artifactPath"] = "outputs/result.txt",
                ["path"] = "data/table.csv",
                ["labName"] = Lab,
                ["vmName"] = "fuzz-vm",
                ["diskName"] = "fuzz-disk",
                ["principalId"] = member.ObjectId.ToString("D"),
                ["roleAssignmentId"] = assignment.Name,
                ["operationId"] = export.Name,
                ["id"] = request.Id.ToString("D"),
                ["entityId"] = entity.Id.ToString("D"),
                ["authorId"] = profile.Id,
                ["token"] = "0123456789abcdef0123456789abcdef",
            });
        }

        public string ValueOf(Operation operation, string parameter) => parameter switch
        {
            "name" when operation.Route.Contains("/models/{name}", StringComparison.Ordinal) => Values["modelName"],
            "path" when operation.Route.Contains("/artifacts/", StringComparison.Ordinal) => Values["artifactPath"],
            "id" when operation.Route.StartsWith("/catalog/", StringComparison.Ordinal) => Values["entityId"],
            _ => Values.TryGetValue(parameter, out var value) ? value : "fuzz",
        };
    }

    // ---- The cases ------------------------------------------------------------------------------------

    internal sealed record Case(string What, IReadOnlyDictionary<string, string> Path, string Query, Body? Body);

    internal sealed record Body(string What, byte[] Content, string? ContentType);

    private static readonly string[] HostilePathValues =
    [
        new string('a', 30_000),
        "ü名前\u202Eevil",
        "..%2F..%2Fetc%2Fpasswd",
        // A NUL in the path is refused by the HTTP layer itself (Kestrel and TestServer alike); its neighbours are not.
        "a%01b",
        "%C0%80",
        "x'; DROP TABLE \"Workspaces\";--",
        "name eq 'x' or 1 eq 1",
        "$filter=true",
        "00000000-0000-0000-0000-00000000000g",
        "{not-a-guid}",
        "5c1d8a52-3f0e-4b7a-9d55-0d1f6c2b7e90",
        "-1",
        "99999999999999999999",
        "<script>alert(1)</script>",
        "%E0%A4%A",
    ];

    private static IEnumerable<Case> Cases(Operation operation, World world, Random random, bool signedIn)
    {
        var valid = operation.PathParameters.ToDictionary(p => p, p => world.ValueOf(operation, p));
        var bodies = HostileBodies(operation, random).ToList();
        Body? AnyBody() => operation.Body is null ? null : bodies[random.Next(bodies.Count)];

        // Hostile path values: each parameter in turn, two values each; a mutating operation with a body
        // gets a hostile body too, so that a path value that happens to be valid still cannot write.
        foreach (var parameter in operation.PathParameters)
        {
            foreach (var value in HostilePathValues.OrderBy(_ => random.Next()).Take(signedIn ? 2 : 1))
            {
                var path = new Dictionary<string, string>(valid) { [parameter] = value };
                yield return new Case($"{parameter}={Short(value)}", path, "", AnyBody());
            }
        }
        if (!signedIn)
        {
            // Anonymous with the real resources' paths: refused before anything is read.
            yield return new Case("anonymous", valid, "", AnyBody());
            if (operation.Body is not null)
            {
                foreach (var body in bodies.OrderBy(_ => random.Next()).Take(3))
                {
                    yield return new Case("anonymous", valid, "", body);
                }
            }
            yield break;
        }

        // Valid paths: hostile query options where the operation cannot write with them.
        foreach (var query in HostileQueries(operation))
        {
            yield return new Case("query", valid, query, operation.Reads ? null : AnyBody());
        }
        // Valid paths: hostile bodies. A raw upload stores whatever it is sent, so only its path is hostile.
        if (operation.ContentType is "application/json" or "multipart/form-data")
        {
            foreach (var body in bodies)
            {
                yield return new Case("body", valid, "", body);
            }
        }
    }

    private static IEnumerable<string> HostileQueries(Operation operation)
    {
        var queries = operation.Parameters.Where(p => p.In == "query").ToList();
        foreach (var parameter in queries)
        {
            var name = Uri.EscapeDataString(parameter.Name);
            string[] values = parameter.Type switch
            {
                "integer" or "number" => ["-1", "99999999999999999999", "abc", "1e999"],
                "boolean" => ["maybe", "2"],
                // A string option of a mutating operation could be valid whatever it says: not fuzzed there.
                _ when !operation.Reads => [],
                _ => [new string('a', Huge / 10), "' or 1 eq 1 --", "((((", "Name eq", "%00", "ü\u0000"],
            };
            foreach (var value in values)
            {
                yield return $"?{name}={Uri.EscapeDataString(value)}";
            }
        }
        if (operation.Reads)
        {
            yield return "?$filter=" + Uri.EscapeDataString("((( eq 'x'");
            yield return "?$top=-1&$skip=-1&$orderby=" + Uri.EscapeDataString("nope desc") + "&$select=" + Uri.EscapeDataString("*,$$");
            yield return "?$unknown=1&$top=99999999999&$skipToken=" + Uri.EscapeDataString("not-a-token");
            yield return "?$filter=%00&$skipToken=%00%FF&x=%E0%A4%A";
        }
    }

    private static IEnumerable<Body> HostileBodies(Operation operation, Random random)
    {
        if (operation.Body is null)
        {
            yield break;
        }
        if (operation.ContentType == "multipart/form-data")
        {
            foreach (var body in HostileMultipart())
            {
                yield return body;
            }
            yield return new Body("json instead of a form", "{}"u8.ToArray(), "application/json");
            yield break;
        }
        if (operation.ContentType != "application/json")
        {
            // Raw uploads: reached only with hostile paths; any content.
            yield return new Body("raw", "content"u8.ToArray(), "application/octet-stream");
            yield break;
        }
        yield return Json("truncated JSON", "{\"a\":");
        yield return Json("not JSON", "not json at all");
        yield return Json("trailing comma", "{\"a\":1,}");
        yield return Json("null", "null");
        yield return Json("array at the root", "[]");
        yield return Json("number at the root", "42");
        yield return Json("deep nesting", string.Concat(Enumerable.Repeat("{\"a\":", 5000)) + "1" + new string('}', 5000));
        yield return Json("deep arrays", new string('[', 100_000) + new string(']', 100_000));
        if (operation.BodyRequired)
        {
            yield return new Body("empty body", [], "application/json");
        }
        yield return new Body("text/plain", "{}"u8.ToArray(), "text/plain");
        yield return new Body("form instead of JSON", "a=b"u8.ToArray(), "application/x-www-form-urlencoded");

        var schema = Resolve(operation.Document, operation.Body["content"]?["application/json"]?["schema"]);
        var properties = schema?["properties"]?.AsObject().Select(p => (Name: p.Key, Type: TypeOf(operation.Document, p.Value))).ToList() ?? [];
        foreach (var (name, type) in properties.OrderBy(_ => random.Next()).Take(4))
        {
            var wrong = type switch
            {
                "array" => "\"not an array\"",
                null => null,
                "string" => "{\"not\":\"a string\"}",
                _ => "[[\"wrong\"]]",
            };
            if (wrong is not null)
            {
                yield return Json($"wrong type for {name}", $"{{\"{name}\":{wrong}}}");
            }
        }
        if (properties.FirstOrDefault(p => p.Type == "string").Name is { } text)
        {
            yield return new Body($"invalid UTF-8 in {text}", [.. Encoding.UTF8.GetBytes($"{{\"{text}\":\""), 0xC3, 0x28, 0xFF, .. "\"}"u8], "application/json");
        }
        else
        {
            yield return new Body("invalid UTF-8", [(byte)'{', 0xC3, 0x28, 0xFF, (byte)'}'], "application/json");
        }
        foreach (var (name, _) in properties.Where(p => p.Type == "string").OrderBy(_ => random.Next()).Take(3))
        {
            var value = name.Contains("mail", StringComparison.OrdinalIgnoreCase) ? new string('a', Huge) + "@example.test" : new string('a', Huge);
            yield return Json($"oversized {name}", $"{{\"{name}\":\"{value}\"}}");
        }
    }

    private static IEnumerable<Body> HostileMultipart()
    {
        const string boundary = "fuzz-boundary";
        var part = $"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"model.pkl\"\r\nContent-Type: application/octet-stream\r\n\r\nabc\r\n";
        yield return Multipart("no boundary", part + $"--{boundary}--\r\n", "multipart/form-data");
        yield return Multipart("unterminated", part + $"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"b.pkl\"\r\n\r\nabc", $"multipart/form-data; boundary={boundary}");
        yield return Multipart("part without Content-Disposition", $"--{boundary}\r\nContent-Type: text/plain\r\n\r\nabc\r\n--{boundary}--\r\n", $"multipart/form-data; boundary={boundary}");
        yield return Multipart("thousands of parts", string.Concat(Enumerable.Range(0, 5000).Select(i => part.Replace("model.pkl", $"f{i}.pkl", StringComparison.Ordinal))) + $"--{boundary}--\r\n", $"multipart/form-data; boundary={boundary}");
        yield return Multipart("boundary too long", part.Replace(boundary, new string('b', 200), StringComparison.Ordinal) + $"--{new string('b', 200)}--\r\n", $"multipart/form-data; boundary={new string('b', 200)}");
        yield return Multipart("path traversal in a file name", part.Replace("model.pkl", "../../escape.pkl", StringComparison.Ordinal) + $"--{boundary}--\r\n", $"multipart/form-data; boundary={boundary}");
        yield return Multipart("no parts", $"--{boundary}--\r\n", $"multipart/form-data; boundary={boundary}");
        yield return Multipart("huge header line", $"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{new string('x', 40_000)}\"\r\n\r\nabc\r\n--{boundary}--\r\n", $"multipart/form-data; boundary={boundary}");
    }

    private static Body Json(string what, string json) => new(what, Encoding.UTF8.GetBytes(json), "application/json");

    private static Body Multipart(string what, string content, string contentType) => new(what, Encoding.UTF8.GetBytes(content), contentType);

    // ---- Sending and judging -------------------------------------------------------------------------

    private static async Task SendAsync(HttpClient http, Operation operation, Case request, List<string> findings)
    {
        var path = operation.Route;
        foreach (var (name, value) in request.Path)
        {
            // Catch-all values keep their slashes; hostile values are sent as they are written (already escaped or not).
            path = path.Replace("{" + name + "}", EscapePath(value), StringComparison.Ordinal);
        }
        var label = $"{operation} [{request.What}{(request.Query.Length > 0 ? " " + Short(request.Query) : "")}{(request.Body is { } b ? ", body: " + b.What : "")}]";
        using var message = new HttpRequestMessage(new HttpMethod(operation.Method), new Uri(path.TrimStart('/') + request.Query, UriKind.Relative));
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (request.Body is { } body)
        {
            message.Content = new ByteArrayContent(body.Content);
            if (body.ContentType is not null)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", body.ContentType);
            }
        }
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(message, Ct);
        }
        catch (HttpRequestException e)
        {
            findings.Add($"{label}: the server failed the request ({e.Message})");
            return;
        }
        using (response)
        {
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync(Ct);
            if (status >= 500)
            {
                findings.Add($"{label}: {status}");
                return;
            }
            if (status is >= 200 and < 300 && !operation.Reads)
            {
                findings.Add($"{label}: {status}, a hostile request to a mutating operation succeeded");
                return;
            }
            if (status < 400)
            {
                return;
            }
            if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            {
                findings.Add($"{label}: {status} as {response.Content.Headers.ContentType?.MediaType ?? "no content type"}, not problem JSON");
                return;
            }
            if (Internals().Match(text) is { Success: true } leak)
            {
                findings.Add($"{label}: {status} names internals ('{leak.Value}'): {Short(text, 300)}");
            }
            if (text.Contains(new string('a', 401), StringComparison.Ordinal) || text.Length > 20_000)
            {
                findings.Add($"{label}: {status} echoes a huge value ({text.Length} characters)");
            }
            try
            {
                var problem = JsonNode.Parse(text);
                if (string.IsNullOrWhiteSpace(problem?["title"]?.GetValue<string>()) || problem["status"]?.GetValue<int>() != status)
                {
                    findings.Add($"{label}: {status} problem without a title or with another status: {Short(text, 300)}");
                }
            }
            catch (System.Text.Json.JsonException)
            {
                findings.Add($"{label}: {status} problem body is not JSON");
            }
        }
    }

    private static string EscapePath(string value)
        => value.Contains('%', StringComparison.Ordinal) ? value : string.Join('/', value.Split('/').Select(Uri.EscapeDataString));

    private static string Short(string value, int max = 40) => value.Length <= max ? value : value[..max] + $"…({value.Length})";

    private static int StableHash(string value) => BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    // Type names, exception names, stack frames, source lines: what a problem must never show.
    [GeneratedRegex(@"\bSystem\.[A-Z]|\bLethe\.[A-Z]|\bMicrosoft\.(?:AspNetCore|EntityFrameworkCore|Extensions|Data|OpenApi)\b|\bNpgsql\.|Exception\b|\n\s+at |\bat [\w.]+\(|\.cs:line")]
    private static partial Regex Internals();

    // ---- The invariant: nothing written -------------------------------------------------------------

    internal sealed record Snapshot(IReadOnlyDictionary<string, IReadOnlyList<string>> Tables, IReadOnlyDictionary<string, string> Blobs);

    /// Every row of every table of the model (each row's values hashed), and every file of the blob
    /// store (live, soft-deleted and temporary, each with its SHA-256).
    private static async Task<Snapshot> SnapshotAsync(LetheHost host)
    {
        var tables = await host.WithDbAsync(async db =>
        {
            var names = db.Model.GetEntityTypes()
                .Select(t => (Table: t.GetTableName(), Schema: t.GetSchema()))
                .Where(t => t.Table is not null)
                .Distinct()
                .ToList();
            var result = new Dictionary<string, IReadOnlyList<string>>();
            var connection = db.Database.GetDbConnection();
            await db.Database.OpenConnectionAsync(Ct);
            try
            {
                foreach (var (table, schema) in names)
                {
                    await using var command = connection.CreateCommand();
                    command.CommandText = schema is null ? $"SELECT * FROM \"{table}\"" : $"SELECT * FROM \"{schema}\".\"{table}\"";
                    result[schema is null ? table! : $"{schema}.{table}"] = await RowHashesAsync(command);
                }
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
            return result;
        });
        var blobs = new Dictionary<string, string>();
        var root = Path.Join(host.DataDirectory, "blobs");
        if (Directory.Exists(root))
        {
            foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            {
                await using var stream = File.OpenRead(file);
                blobs[Path.GetRelativePath(root, file)] = $"{stream.Length}:{Convert.ToHexString(await SHA256.HashDataAsync(stream, Ct))}";
            }
        }
        return new Snapshot(tables, blobs);
    }

    private static async Task<IReadOnlyList<string>> RowHashesAsync(DbCommand command)
    {
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            var row = new StringBuilder();
            for (var i = 0; i < reader.FieldCount; i++)
            {
                var value = reader.GetValue(i);
                row.Append(reader.GetName(i)).Append('=').Append(value switch
                {
                    byte[] bytes => Convert.ToBase64String(bytes),
                    IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
                    _ => value.ToString(),
                }).Append('\u001F');
            }
            rows.Add(Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(row.ToString()))));
        }
        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    private static IEnumerable<string> Differences(Snapshot before, Snapshot after)
    {
        foreach (var (table, rows) in after.Tables)
        {
            var old = before.Tables.GetValueOrDefault(table) ?? [];
            var added = rows.Except(old).Count();
            var removed = old.Except(rows).Count();
            if (added > 0 || removed > 0)
            {
                yield return $"Table {table} changed: {added} rows new or changed, {removed} rows gone or changed.";
            }
        }
        foreach (var (name, hash) in after.Blobs)
        {
            if (!before.Blobs.TryGetValue(name, out var old))
            {
                yield return $"Blob file {name} appeared.";
            }
            else if (old != hash)
            {
                yield return $"Blob file {name} changed.";
            }
        }
        foreach (var name in before.Blobs.Keys.Except(after.Blobs.Keys))
        {
            yield return $"Blob file {name} disappeared.";
        }
    }
}
