/// The JSON Schema (draft 2020-12) of one manifest document, for editors
/// (`# yaml-language-server: $schema=…`) and other tools: `helios schema` prints it and
/// docs/manifest.schema.json is a copy. The loader stays the authority — the schema cannot say
/// what spans files (job references, duplicate names, port clashes) — and a test holds the two
/// to agree on every example and on the hostile corpus's single-document mistakes.
public enum ManifestSchema {
    public static let json = #"""
{
  "$defs": {
    "Deployment": {
      "additionalProperties": false,
      "anyOf": [
        {
          "properties": {
            "hosts": {
              "minItems": 1
            }
          },
          "required": [
            "hosts"
          ]
        },
        {
          "properties": {
            "hostSelector": {
              "minItems": 1
            }
          },
          "required": [
            "hostSelector"
          ]
        }
      ],
      "properties": {
        "goal": {
          "enum": [
            "start",
            "stop"
          ]
        },
        "hostSelector": {
          "items": {
            "description": "key=value, key!=value, key in (a, b) or key notin (a, b)",
            "pattern": "^\\s*[0-9A-Za-z_./-]+\\s*(!?=\\s*[0-9A-Za-z_.-]+|\\s+(in|notin)\\s+\\(\\s*[0-9A-Za-z_.-]+(\\s*,\\s*[0-9A-Za-z_.-]+)*\\s*\\))\\s*$",
            "type": "string"
          },
          "type": "array"
        },
        "hosts": {
          "items": {
            "description": "Letters, digits, '_', '.', '-'; not '.' or '..'.",
            "pattern": "^(?!\\.{1,2}$)[0-9A-Za-z_.-]+$",
            "type": "string"
          },
          "type": "array"
        },
        "job": {
          "description": "A job's name, or name:version when several versions are declared",
          "type": "string"
        },
        "kind": {
          "const": "Deployment"
        },
        "name": {
          "description": "Letters, digits, '_', '.', '-'; not '.' or '..'.",
          "pattern": "^(?!\\.{1,2}$)[0-9A-Za-z_.-]+$",
          "type": "string"
        },
        "protect": {
          "type": "boolean"
        },
        "rollout": {
          "additionalProperties": false,
          "properties": {
            "autoRollback": {
              "type": "boolean"
            },
            "ignoreFailures": {
              "type": "boolean"
            },
            "minHealthy": {
              "description": "e.g. 500ms, 5s, 2m, 1h30m, 1.5m",
              "pattern": "^([0-9]+(\\.[0-9]+)?(ms|h|m|s))+$",
              "type": "string"
            },
            "overlap": {
              "type": "boolean"
            },
            "parallelism": {
              "maximum": 10000,
              "minimum": 1,
              "type": "integer"
            },
            "timeout": {
              "description": "e.g. 500ms, 5s, 2m, 1h30m, 1.5m",
              "pattern": "^([0-9]+(\\.[0-9]+)?(ms|h|m|s))+$",
              "type": "string"
            }
          },
          "type": "object"
        }
      },
      "required": [
        "kind",
        "name",
        "job"
      ],
      "type": "object"
    },
    "Job": {
      "additionalProperties": false,
      "properties": {
        "addCapabilities": {
          "items": {
            "pattern": "^(CAP_)?(ALL|AUDIT_CONTROL|AUDIT_READ|AUDIT_WRITE|BLOCK_SUSPEND|BPF|CHECKPOINT_RESTORE|CHOWN|DAC_OVERRIDE|DAC_READ_SEARCH|FOWNER|FSETID|IPC_LOCK|IPC_OWNER|KILL|LEASE|LINUX_IMMUTABLE|MAC_ADMIN|MAC_OVERRIDE|MKNOD|NET_ADMIN|NET_BIND_SERVICE|NET_BROADCAST|NET_RAW|PERFMON|SETFCAP|SETGID|SETPCAP|SETUID|SYS_ADMIN|SYS_BOOT|SYS_CHROOT|SYS_MODULE|SYS_NICE|SYS_PACCT|SYS_PTRACE|SYS_RAWIO|SYS_RESOURCE|SYS_TIME|SYS_TTY_CONFIG|SYSLOG|WAKE_ALARM)$",
            "type": "string"
          },
          "type": "array"
        },
        "command": {
          "items": {
            "type": "string"
          },
          "type": "array"
        },
        "dropCapabilities": {
          "items": {
            "pattern": "^(CAP_)?(ALL|AUDIT_CONTROL|AUDIT_READ|AUDIT_WRITE|BLOCK_SUSPEND|BPF|CHECKPOINT_RESTORE|CHOWN|DAC_OVERRIDE|DAC_READ_SEARCH|FOWNER|FSETID|IPC_LOCK|IPC_OWNER|KILL|LEASE|LINUX_IMMUTABLE|MAC_ADMIN|MAC_OVERRIDE|MKNOD|NET_ADMIN|NET_BIND_SERVICE|NET_BROADCAST|NET_RAW|PERFMON|SETFCAP|SETGID|SETPCAP|SETUID|SYS_ADMIN|SYS_BOOT|SYS_CHROOT|SYS_MODULE|SYS_NICE|SYS_PACCT|SYS_PTRACE|SYS_RAWIO|SYS_RESOURCE|SYS_TIME|SYS_TTY_CONFIG|SYSLOG|WAKE_ALARM)$",
            "type": "string"
          },
          "type": "array"
        },
        "env": {
          "additionalProperties": {
            "anyOf": [
              {
                "type": [
                  "string",
                  "number",
                  "boolean"
                ]
              },
              {
                "additionalProperties": false,
                "description": "a secret read by each agent from its --secrets-dir",
                "properties": {
                  "secret": {
                    "pattern": "^[A-Za-z0-9._-]+$",
                    "type": "string"
                  }
                },
                "required": [
                  "secret"
                ],
                "type": "object"
              }
            ]
          },
          "propertyNames": {
            "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"
          },
          "type": "object"
        },
        "expires": {
          "description": "ISO 8601, e.g. 2027-01-01T00:00:00Z",
          "type": "string"
        },
        "gracePeriod": {
          "description": "e.g. 500ms, 5s, 2m, 1h30m, 1.5m",
          "pattern": "^([0-9]+(\\.[0-9]+)?(ms|h|m|s))+$",
          "type": "string"
        },
        "healthCheck": {
          "additionalProperties": false,
          "maxProperties": 1,
          "minProperties": 1,
          "properties": {
            "exec": {
              "items": {
                "type": "string"
              },
              "minItems": 1,
              "type": "array"
            },
            "http": {
              "additionalProperties": false,
              "properties": {
                "path": {
                  "pattern": "^/",
                  "type": "string"
                },
                "port": {
                  "type": "string"
                }
              },
              "required": [
                "port",
                "path"
              ],
              "type": "object"
            },
            "tcp": {
              "additionalProperties": false,
              "properties": {
                "port": {
                  "type": "string"
                }
              },
              "required": [
                "port"
              ],
              "type": "object"
            }
          },
          "type": "object"
        },
        "hostname": {
          "type": "string"
        },
        "image": {
          "description": "An image reference, e.g. registry.example.com/web:1.4.3",
          "minLength": 1,
          "type": "string"
        },
        "kind": {
          "const": "Job"
        },
        "labels": {
          "additionalProperties": {
            "type": [
              "string",
              "number",
              "boolean"
            ]
          },
          "propertyNames": {
            "not": {
              "pattern": "^helios\\."
            }
          },
          "type": "object"
        },
        "metadata": {
          "additionalProperties": {
            "type": [
              "string",
              "number",
              "boolean"
            ]
          },
          "type": "object"
        },
        "name": {
          "description": "Letters, digits, '_', '.', '-'; not '.' or '..'.",
          "pattern": "^(?!\\.{1,2}$)[0-9A-Za-z_.-]+$",
          "type": "string"
        },
        "networkMode": {
          "pattern": "^(bridge|host|none|container:[0-9A-Za-z_.-]+)$",
          "type": "string"
        },
        "ports": {
          "additionalProperties": {
            "additionalProperties": false,
            "properties": {
              "external": {
                "maximum": 65535,
                "minimum": 1,
                "type": "integer"
              },
              "internal": {
                "maximum": 65535,
                "minimum": 1,
                "type": "integer"
              },
              "protocol": {
                "enum": [
                  "tcp",
                  "udp"
                ]
              }
            },
            "required": [
              "internal"
            ],
            "type": "object"
          },
          "propertyNames": {
            "description": "Letters, digits, '_', '.', '-'; not '.' or '..'.",
            "pattern": "^(?!\\.{1,2}$)[0-9A-Za-z_.-]+$",
            "type": "string"
          },
          "type": "object"
        },
        "ramdisks": {
          "additionalProperties": {
            "type": [
              "string",
              "number",
              "boolean"
            ]
          },
          "propertyNames": {
            "pattern": "^/"
          },
          "type": "object"
        },
        "registration": {
          "additionalProperties": {
            "additionalProperties": false,
            "properties": {
              "port": {
                "type": "string"
              }
            },
            "required": [
              "port"
            ],
            "type": "object"
          },
          "propertyNames": {
            "pattern": "^[0-9A-Za-z_.-]+/[0-9A-Za-z_.-]+$"
          },
          "type": "object"
        },
        "resources": {
          "additionalProperties": false,
          "properties": {
            "cpuShares": {
              "maximum": 262144,
              "minimum": 2,
              "type": "integer"
            },
            "cpuset": {
              "pattern": "^[0-9,-]+$",
              "type": "string"
            },
            "memory": {
              "anyOf": [
                {
                  "minimum": 0,
                  "type": "integer"
                },
                {
                  "pattern": "^[0-9]+(Ki|Mi|Gi|Ti|k|M|G)?$",
                  "type": "string"
                }
              ],
              "description": "Bytes, or e.g. 512Ki, 256Mi, 1Gi"
            },
            "memorySwap": {
              "anyOf": [
                {
                  "anyOf": [
                    {
                      "minimum": 0,
                      "type": "integer"
                    },
                    {
                      "pattern": "^[0-9]+(Ki|Mi|Gi|Ti|k|M|G)?$",
                      "type": "string"
                    }
                  ],
                  "description": "Bytes, or e.g. 512Ki, 256Mi, 1Gi"
                },
                {
                  "const": -1
                }
              ]
            }
          },
          "type": "object"
        },
        "securityOpt": {
          "items": {
            "pattern": "^(no-new-privileges([:=](true|false))?|label[=:](user|role|type|level|disable|filetype|nested)(:\\S*)?|(apparmor|seccomp)[=:]\\S+|systempaths[=:]unconfined)$",
            "type": "string"
          },
          "type": "array"
        },
        "sensitive": {
          "description": "env names whose values are secret besides those that look it",
          "items": {
            "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
            "type": "string"
          },
          "type": "array"
        },
        "stopTimeout": {
          "description": "e.g. 500ms, 5s, 2m, 1h30m, 1.5m",
          "pattern": "^([0-9]+(\\.[0-9]+)?(ms|h|m|s))+$",
          "type": "string"
        },
        "version": {
          "anyOf": [
            {
              "description": "Letters, digits, '_', '.', '-'; not '.' or '..'.",
              "pattern": "^(?!\\.{1,2}$)[0-9A-Za-z_.-]+$",
              "type": "string"
            },
            {
              "type": "number"
            }
          ]
        },
        "volumes": {
          "items": {
            "pattern": "^/[^:]*(:/[^:]*(:(ro|rw))?)?$",
            "type": "string"
          },
          "type": "array"
        }
      },
      "required": [
        "kind",
        "name",
        "version",
        "image"
      ],
      "type": "object"
    },
    "Settings": {
      "additionalProperties": false,
      "properties": {
        "maxPrune": {
          "anyOf": [
            {
              "minimum": 0,
              "type": "integer"
            },
            {
              "pattern": "^([0-9]+|([0-9]|[1-9][0-9]|100)%)$",
              "type": "string"
            }
          ]
        },
        "paths": {
          "items": {
            "minLength": 1,
            "not": {
              "pattern": "(^/|(^|/)\\.\\.(/|$))"
            },
            "type": "string"
          },
          "type": "array"
        },
        "policy": {
          "additionalProperties": false,
          "properties": {
            "allowPrivileged": {
              "type": "boolean"
            },
            "capabilities": {
              "items": {
                "type": "string"
              },
              "type": "array"
            },
            "networkModes": {
              "items": {
                "enum": [
                  "host",
                  "container"
                ]
              },
              "type": "array"
            },
            "volumeRoots": {
              "items": {
                "pattern": "^/",
                "type": "string"
              },
              "type": "array"
            }
          },
          "type": "object"
        },
        "pollInterval": {
          "description": "e.g. 500ms, 5s, 2m, 1h30m, 1.5m",
          "pattern": "^([0-9]+(\\.[0-9]+)?(ms|h|m|s))+$",
          "type": "string"
        },
        "prune": {
          "type": "boolean"
        },
        "selfHeal": {
          "type": "boolean"
        }
      },
      "type": "object"
    }
  },
  "$id": "https://helios.invalid/schemas/manifest.schema.json",
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "description": "One YAML document of a Helios manifest repository: a Job, a Deployment, or helios.yaml's settings (no kind). See docs/manifests.md.",
  "else": {
    "$ref": "#/$defs/Settings"
  },
  "if": {
    "required": [
      "kind"
    ],
    "type": "object"
  },
  "then": {
    "oneOf": [
      {
        "$ref": "#/$defs/Job"
      },
      {
        "$ref": "#/$defs/Deployment"
      }
    ]
  },
  "title": "Helios manifest"
}
"""#
}
