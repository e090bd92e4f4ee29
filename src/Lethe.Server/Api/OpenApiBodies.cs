using Microsoft.OpenApi;

namespace Lethe.Server.Api;

/// Request bodies that the handlers read themselves (a form, a raw stream) and that the OpenAPI
/// generator therefore cannot see: described here, so that the document tells clients what to send.
internal static class OpenApiBodies
{
    /// A raw upload: the body is stored as sent, with its Content-Type.
    public static RouteHandlerBuilder AcceptsRawBody(this RouteHandlerBuilder builder, string description)
        => builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/octet-stream"] = new() { Schema = Binary() },
                    ["*/*"] = new() { Schema = Binary() },
                },
            };
            return Task.CompletedTask;
        });

    /// A streamed download: the bytes of a blob, answered with the content type it was stored with.
    public static RouteHandlerBuilder ProducesBinary(this RouteHandlerBuilder builder, string description)
        => builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Responses ??= [];
            operation.Responses["200"] = new OpenApiResponse
            {
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType> { ["application/octet-stream"] = new() { Schema = Binary() } },
            };
            return Task.CompletedTask;
        });

    /// A multipart/form-data body: file parts under <paramref name="filesField"/> (1 to <paramref name="maxFiles"/>,
    /// each with its path as the file name) and optional text fields.
    public static RouteHandlerBuilder AcceptsFiles(this RouteHandlerBuilder builder, string filesField, int maxFiles, string description, params (string Name, string Description, int MaxLength)[] fields)
        => builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            var properties = new Dictionary<string, IOpenApiSchema>
            {
                [filesField] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Array,
                    MinItems = 1,
                    MaxItems = maxFiles,
                    Description = "One part per file; the part's file name is the file's path.",
                    Items = Binary(),
                },
            };
            foreach (var (name, fieldDescription, maxLength) in fields)
            {
                properties[name] = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = maxLength, Description = fieldDescription };
            }
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["multipart/form-data"] = new()
                    {
                        Schema = new OpenApiSchema { Type = JsonSchemaType.Object, Required = new HashSet<string> { filesField }, Properties = properties },
                    },
                },
            };
            return Task.CompletedTask;
        });

    private static OpenApiSchema Binary() => new() { Type = JsonSchemaType.String, Format = "binary" };
}
