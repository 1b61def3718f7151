import ArgumentParser
import BotformConfig
import BotformCore

/// `botform schema`: the configuration language as JSON Schema, for editors.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the JSON Schema of the configuration (for yaml-language-server and other editors).",
        discussion: """
            Save it and point your editor at it, e.g. with a first line in botform.yaml:
              # yaml-language-server: $schema=./botform.schema.json
            """)

    func run() throws {
        Terminal(noColor: true).out(SchemaObject.jsonSchema().serialized())
    }
}
