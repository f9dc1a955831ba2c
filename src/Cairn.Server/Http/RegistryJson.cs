using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Registry;

namespace Cairn.Server.Http;

/// <summary>
/// Writes registry entities in MLflow's JSON shape, leaving out what MLflow leaves out: an empty
/// model description, empty tag, alias and latest-version lists. A version's description, source,
/// run_id and run_link are always written, as empty strings when unset (as MLflow does).
/// </summary>
public static class RegistryJson
{
    public static void WriteRegisteredModel(Utf8JsonWriter w, RegisteredModel m)
    {
        w.WriteStartObject();
        w.WriteString("name", m.Name);
        w.WriteNumber("creation_timestamp", m.CreationTimestamp);
        w.WriteNumber("last_updated_timestamp", m.LastUpdatedTimestamp);
        if (!string.IsNullOrEmpty(m.Description))
        {
            w.WriteString("description", m.Description);
        }

        if (m.LatestVersions.Count > 0)
        {
            w.WriteStartArray("latest_versions");
            foreach (var v in m.LatestVersions)
            {
                WriteModelVersion(w, v);
            }

            w.WriteEndArray();
        }

        WriteTags(w, m.Tags);
        if (m.Aliases.Count > 0)
        {
            w.WriteStartArray("aliases");
            foreach (var a in m.Aliases)
            {
                w.WriteStartObject();
                w.WriteString("alias", a.Alias);
                w.WriteString("version", a.Version);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    public static void WriteModelVersion(Utf8JsonWriter w, ModelVersion v)
    {
        w.WriteStartObject();
        w.WriteString("name", v.Name);
        w.WriteString("version", v.Version);
        w.WriteNumber("creation_timestamp", v.CreationTimestamp);
        w.WriteNumber("last_updated_timestamp", v.LastUpdatedTimestamp);
        w.WriteString("current_stage", v.CurrentStage);
        w.WriteString("description", v.Description);
        w.WriteString("source", v.Source);
        w.WriteString("run_id", v.RunId);
        w.WriteString("status", v.Status);
        WriteTags(w, v.Tags);
        w.WriteString("run_link", v.RunLink);
        if (v.Aliases.Count > 0)
        {
            w.WriteStartArray("aliases");
            foreach (var a in v.Aliases)
            {
                w.WriteStringValue(a);
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    private static void WriteTags(Utf8JsonWriter w, IReadOnlyList<Tag> tags)
    {
        if (tags.Count == 0)
        {
            return;
        }

        w.WriteStartArray("tags");
        foreach (var t in tags)
        {
            w.WriteStartObject();
            w.WriteString("key", t.Key);
            w.WriteString("value", t.Value);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }
}
