import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A parsed XML element: what the AWS answers (EC2, IAM, S3) need, and no more. Namespaces are
/// ignored; text is the element's own character data, entities decoded.
public struct XMLTree: Sendable {
    public var name: String
    public var text: String
    public var children: [XMLTree]

    /// Parses a document; nil when it is not well-formed XML.
    public static func parse(_ text: String) -> XMLTree? {
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else { return nil }
        return root
    }

    /// The first child named `name`.
    public func child(_ name: String) -> XMLTree? { children.first { $0.name == name } }

    /// Every child named `name`.
    public func children(_ name: String) -> [XMLTree] { children.filter { $0.name == name } }

    /// The element at a path of child names (`["instanceState", "name"]`).
    public func at(_ path: String...) -> XMLTree? {
        var node: XMLTree? = self
        for part in path { node = node?.child(part) }
        return node
    }

    /// The text of the element at a path, nil when absent.
    public func string(_ path: String...) -> String? {
        var node: XMLTree? = self
        for part in path { node = node?.child(part) }
        return node?.text
    }

    /// Every descendant named `name`, depth first.
    public func descendants(_ name: String) -> [XMLTree] {
        children.flatMap { ($0.name == name ? [$0] : []) + $0.descendants(name) }
    }
}

private final class TreeBuilder: NSObject, XMLParserDelegate {
    var stack: [XMLTree] = []
    var root: XMLTree?

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        stack.append(XMLTree(name: elementName, text: "", children: []))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        guard var element = stack.popLast() else { return }
        // A leaf's text is kept exactly (an S3 key may end in a space); a container's is indentation.
        if !element.children.isEmpty { element.text = element.text.trimmingCharacters(in: .whitespacesAndNewlines) }
        if stack.isEmpty { root = element } else { stack[stack.count - 1].children.append(element) }
    }
}
