import { Component, type ReactNode } from 'react'
import { ErrorBox } from './ui.js'

/**
 * A view that throws while rendering (an API shape the view did not expect) shows its error instead
 * of blanking the page; navigation stays usable, and moving to another view starts afresh.
 */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null }

  static getDerivedStateFromError(error: unknown): { error: Error } {
    return { error: error instanceof Error ? error : new Error(String(error)) }
  }

  override render(): ReactNode {
    const { error } = this.state
    if (!error) return this.props.children
    return (
      <ErrorBox
        error={{ message: `This view failed to render: ${error.message}`, code: 'render_error' }}
        onRetry={() => this.setState({ error: null })}
      />
    )
  }
}
